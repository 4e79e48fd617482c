"""Exception classes of the io layer, with TensorFlow's names, codes and constructor signature.

The framework re-exports these exact classes as `tf.errors.*`, so an error raised while
reading a checkpoint is caught by `except tf.errors.NotFoundError` in user code.
"""

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """An operation failed; `node_def` and `op` say where, `message` says what happened."""

    def __init__(self, node_def, op, message, error_code=UNKNOWN, *args):
        super().__init__(message)
        self._node_def = node_def
        self._op = op
        self._message = message
        self._error_code = error_code
        self._extra_args = args

    @property
    def message(self):
        return self._message

    @property
    def op(self):
        return self._op

    @property
    def node_def(self):
        return self._node_def

    @property
    def error_code(self):
        return self._error_code

    @property
    def experimental_payloads(self):
        return {}

    def __str__(self):
        return self._message

    def __reduce__(self):
        # Subclasses take (node_def, op, message); the base class also takes the code.
        if type(self) is OpError:
            return OpError, (self._node_def, self._op, self._message, self._error_code)
        return type(self), (self._node_def, self._op, self._message)


class CancelledError(OpError):
    """An operation or step was cancelled."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, CANCELLED, *args)


class UnknownError(OpError):
    """An error of unknown kind."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, UNKNOWN, *args)


class InvalidArgumentError(OpError):
    """An argument (or the file content it names) is invalid."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, INVALID_ARGUMENT, *args)


class DeadlineExceededError(OpError):
    """A deadline expired before the operation finished."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, DEADLINE_EXCEEDED, *args)


class NotFoundError(OpError):
    """A requested file, key or entity does not exist."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, NOT_FOUND, *args)


class AlreadyExistsError(OpError):
    """The entity to create already exists."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, ALREADY_EXISTS, *args)


class PermissionDeniedError(OpError):
    """The caller may not run this operation."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, PERMISSION_DENIED, *args)


class ResourceExhaustedError(OpError):
    """A resource (memory, disk, quota) ran out."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, RESOURCE_EXHAUSTED, *args)


class FailedPreconditionError(OpError):
    """The system is not in a state that allows the operation."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, FAILED_PRECONDITION, *args)


class AbortedError(OpError):
    """The operation was aborted, typically by a concurrent conflict."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, ABORTED, *args)


class OutOfRangeError(OpError):
    """An iteration or read went past the valid range."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, OUT_OF_RANGE, *args)


class UnimplementedError(OpError):
    """The operation is not implemented or not supported."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, UNIMPLEMENTED, *args)


class InternalError(OpError):
    """An internal invariant was broken."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, INTERNAL, *args)


class UnavailableError(OpError):
    """A service is temporarily unavailable."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, UNAVAILABLE, *args)


class DataLossError(OpError):
    """Data is corrupt or was lost."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, DATA_LOSS, *args)


class UnauthenticatedError(OpError):
    """The request lacks valid authentication credentials."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, UNAUTHENTICATED, *args)


_CODE_TO_EXCEPTION_CLASS = {
    CANCELLED: CancelledError,
    UNKNOWN: UnknownError,
    INVALID_ARGUMENT: InvalidArgumentError,
    DEADLINE_EXCEEDED: DeadlineExceededError,
    NOT_FOUND: NotFoundError,
    ALREADY_EXISTS: AlreadyExistsError,
    PERMISSION_DENIED: PermissionDeniedError,
    RESOURCE_EXHAUSTED: ResourceExhaustedError,
    FAILED_PRECONDITION: FailedPreconditionError,
    ABORTED: AbortedError,
    OUT_OF_RANGE: OutOfRangeError,
    UNIMPLEMENTED: UnimplementedError,
    INTERNAL: InternalError,
    UNAVAILABLE: UnavailableError,
    DATA_LOSS: DataLossError,
    UNAUTHENTICATED: UnauthenticatedError,
}


def exception_type_from_error_code(error_code):
    return _CODE_TO_EXCEPTION_CLASS[error_code]


def error_code_from_exception_type(cls):
    for code, exception_class in _CODE_TO_EXCEPTION_CLASS.items():
        if exception_class is cls:
            return code
    raise KeyError(cls)
