"""Device specifications: `tf.DeviceSpec`, TensorFlow's canonical device strings and the merge
that nested `tf.device` scopes perform.

A device string names up to five fields, `/job:<name>/replica:<int>/task:<int>/device:<type>:
<index>`, each optional; the legacy spelling `/cpu:0` or `/gpu:1` is accepted and written back
as `/device:CPU:0`. Nested scopes merge: the inner scope's fields win, the outer scope fills in
the ones the inner leaves unset (`/job:ps` around `/cpu:0` places ops on `/job:ps/device:CPU:0`).
"""

_FIELDS = ("job", "replica", "task", "device_type", "device_index")


class DeviceSpec:
    """A (partial) device specification, TensorFlow 1's mutable `tf.DeviceSpec`."""

    __slots__ = _FIELDS

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self.job = job
        self.replica = replica
        self.task = task
        self.device_type = device_type
        self.device_index = device_index

    # Fields are normalised on assignment, as TensorFlow's setters do.
    def __setattr__(self, name, value):
        if name == "job":
            value = None if value is None else str(value)
        elif name in ("replica", "task", "device_index"):
            value = None if value is None else int(value)
        elif name == "device_type":
            # Lower-case "cpu"/"gpu" are accepted for backwards compatibility.
            value = None if value is None else (str(value).upper() if str(value) in ("cpu", "gpu")
                                                else str(value))
        object.__setattr__(self, name, value)

    @classmethod
    def from_string(cls, spec):
        return cls(**_parse(spec))

    def parse_from_string(self, spec):
        """Replaces every field with those of `spec` (fields it lacks become None)."""
        for name, value in _parse(spec).items():
            setattr(self, name, value)
        return self

    def merge_from(self, dev):
        """Takes every field that `dev` sets."""
        for name in _FIELDS:
            value = getattr(dev, name)
            if value is not None:
                setattr(self, name, value)

    def make_merged_spec(self, dev):
        """A copy of this spec with `dev`'s set fields taking precedence."""
        merged = self.replace()
        merged.merge_from(dev)
        return merged

    def replace(self, **kwargs):
        fields = {name: getattr(self, name) for name in _FIELDS}
        fields.update(kwargs)
        return DeviceSpec(**fields)

    def to_string(self):
        text = ""
        if self.job is not None:
            text += "/job:" + self.job
        if self.replica is not None:
            text += "/replica:%d" % self.replica
        if self.task is not None:
            text += "/task:%d" % self.task
        if self.device_type is not None:
            index = "*" if self.device_index is None else str(self.device_index)
            text += "/device:%s:%s" % (self.device_type, index)
        return text

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self):
        return hash(self.to_string())

    def __repr__(self):
        return "<DeviceSpec(job=%r, replica=%r, task=%r, device_type=%r, device_index=%r)>" % (
            self.job, self.replica, self.task, self.device_type, self.device_index)


def _parse(spec):
    """The five fields of a device string (None where it says nothing)."""
    fields = dict.fromkeys(_FIELDS)
    for part in (spec or "").split("/"):
        if not part:
            continue
        pieces = part.split(":")
        key = pieces[0]
        if len(pieces) == 2 and key in ("job", "replica", "task"):
            fields[key] = pieces[1]
        elif len(pieces) in (1, 2) and key.upper() in ("CPU", "GPU"):
            if fields["device_type"] is not None:
                raise ValueError("Multiple device types are not allowed while parsing the device "
                                 "spec: %s." % spec)
            fields["device_type"] = key.upper()
            if len(pieces) == 2 and pieces[1] != "*":
                fields["device_index"] = _index(pieces[1], spec)
        elif len(pieces) == 3 and key == "device":
            if fields["device_type"] is not None:
                raise ValueError("Multiple device types are not allowed while parsing the device "
                                 "spec: %s." % spec)
            fields["device_type"] = pieces[1]
            if pieces[2] != "*":
                fields["device_index"] = _index(pieces[2], spec)
        else:
            raise ValueError("Unknown attribute: '%s' in '%s'" % (key, spec))
    for key in ("replica", "task"):
        if fields[key] is not None:
            fields[key] = _index(fields[key], spec)
    return fields


def _index(text, spec):
    try:
        return int(text)
    except ValueError:
        raise ValueError("Device index %r in %r is not an integer." % (text, spec)) from None


_canonical_cache = {}


def canonical_name(device):
    """TensorFlow's spelling of a device string ("/cpu:0" -> "/device:CPU:0"); a DeviceSpec
    gives its string."""
    if device is None:
        return ""
    if isinstance(device, DeviceSpec):
        return device.to_string()
    name = _canonical_cache.get(device)
    if name is None:
        name = DeviceSpec.from_string(device).to_string()
        if len(_canonical_cache) > 4096:
            _canonical_cache.clear()
        _canonical_cache[device] = name
    return name


def merge(outer, current):
    """The device of an op whose device so far is `current` (set by inner scopes) once the
    enclosing scope `outer` (a DeviceSpec) applies: `current`'s fields win."""
    return outer.make_merged_spec(DeviceSpec.from_string(current)).to_string()
