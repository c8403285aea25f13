"""Hostile OCI image layouts for tests/integration/image-hostile.bats, one per case of the IMAGES.md
test list (T01-T21, T23, T27, T29-T38); case names start with the T-id.

Every case is built against a VICTIM directory of the host (an absolute path, made by the test, with
a file `canary`): the names, link and symlink targets aim at it, so that an unpacker that follows
them on the host would really change it.  `VR` below is VICTIM without its leading slash (the same
path inside the image's root) and `UP` is enough "../" to climb from any store directory to /.

build(case, out, victim, busybox, probe) writes the layout OUT (ref "hostile") and returns the
image's facts (ocibuild.Layout.add_image) plus "bad": the digest or name the error must mention,
when the case has one.  The expected outcome of each case is asserted by the bats file.
"""

import gzip
import io
import json
import os

import ocibuild as ob
from mkimage import GROUP, PASSWD, busybox_base, d, f

UP = "../" * 40
REF = "hostile"


def sym(name, target, **kw):
    return dict(type="symlink", name=name, target=target, **kw)


def link(name, target, **kw):
    return dict(type="link", name=name, target=target, **kw)


def wh(name):
    return dict(type="whiteout", name=name)


def victim_dirs(vr):
    """Directory entries for every component of VR (so that VR exists inside the image's root), but
    `tmp`, which small_base has."""
    parts = vr.split("/")
    return [d("/".join(parts[:i + 1])) for i in range(len(parts)) if parts[:i + 1] != ["tmp"]]


def small_base():
    return [d("etc"), f("etc/passwd", PASSWD), f("etc/group", GROUP), d("tmp", 0o1777), d("bin")]


class Case:
    """What a case builds: LAYERS (lists of entries, or dicts with entries and compression, fmt,
    tail, media_type), the process CONFIG, and hooks editing the config, manifest and index.json
    objects before they are written (CONFIG_FN, MANIFEST_FN, INDEX_FN) or the finished layout
    (POST(path, facts))."""

    def __init__(self, layers, config=None, config_fn=None, manifest_fn=None, index_fn=None, post=None,
                 bad=None):
        self.layers = layers
        self.config = config if config is not None else {"Cmd": ["/bin/true"]}
        self.config_fn, self.manifest_fn, self.index_fn, self.post = config_fn, manifest_fn, index_fn, post
        self.bad = bad


CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


# -- T01-T04: path handling -------------------------------------------------------------------------

@case
def T01a_dotdot(v, vr, **_):
    """`../../…/VICTIM/canary` and `../…/VICTIM/new`: clamped into the root or refused."""
    return Case([small_base(), [f(UP + vr + "/canary", "pwned\n"), f(UP + vr + "/new", "pwned\n")]])


@case
def T01b_dotdot_inner(v, vr, **_):
    """`etc/../../../…/VICTIM/new`: `..` in the middle of a name."""
    return Case([small_base(), [f("etc/" + UP + vr + "/new", "pwned\n")]])


@case
def T02_absolute(v, vr, **_):
    """`/VICTIM/new` and `/VICTIM/canary`: land at ROOT/VICTIM/..."""
    return Case([small_base(), [f("/" + vr + "/new", "abs\n"), f("/" + vr + "/canary", "abs\n")]])


@case
def T03a_dot_symlink(v, vr, **_):
    """Entry `.` is a symlink to VICTIM, then `x` in the same layer (CVE-2021-29136)."""
    return Case([small_base(), [sym(".", v), f("x", "pwned\n")]])


@case
def T03b_dot_symlink_next_layer(v, vr, **_):
    """`./` as the last entry of layer 1 is a symlink to VICTIM; layer 2 writes `x` and `canary`."""
    return Case([small_base() + [sym("./", v)], [f("x", "pwned\n"), f("canary", "pwned\n")]])


@case
def T03c_root_file(v, vr, **_):
    """Entry `.` is a regular file (with data)."""
    return Case([small_base(), [f(".", "root as a file\n")]])


@case
def T03d_root_slash_file(v, vr, **_):
    """Entry `/` is a regular file with data: a regular file whose name ends in `/` is a directory to
    tar readers, so its data makes the archive unreadable."""
    return Case([small_base(), [f("/", "root as a file\n")]])


@case
def T04a_pax_path_dotdot(v, vr, **_):
    """A PAX `path` record (a name longer than 100 bytes) climbing out with `..`."""
    return Case([small_base(), [f("a/" + "b" * 120 + "/" + UP + vr + "/new", "pwned\n")]])


@case
def T04b_gnu_longlink_dotdot(v, vr, **_):
    """A GNU ././@LongLink name climbing out with `..`."""
    return Case([small_base(), dict(entries=[f("a/" + "b" * 120 + "/" + UP + vr + "/new", "pwned\n")], fmt="gnu")])


@case
def T04c_empty_name(v, vr, **_):
    """A regular file with an empty name."""
    return Case([small_base(), [f("", "empty name\n"), f("after", "after\n")]])


@case
def T04d_name_too_long(v, vr, **_):
    """A name of 5000 bytes (> PATH_MAX) through PAX."""
    return Case([small_base(), [f(("n" * 200 + "/") * 25 + "f", "long\n")]])


@case
def T04e_too_deep(v, vr, **_):
    """300 directory levels (the extractor allows 256)."""
    return Case([small_base(), [f("d/" * 300 + "f", "deep\n")]])


# -- T05-T09: symlinks ------------------------------------------------------------------------------

@case
def T05_symlink_absolute(v, vr, **_):
    """`esc -> VICTIM`, then `esc/new` and `esc/canary` in the same layer: resolved inside the root."""
    return Case([small_base(), victim_dirs(vr) + [sym("esc", v), f("esc/new", "pwned\n"), f("esc/canary", "pwned\n")]])


@case
def T06a_symlink_relative(v, vr, **_):
    """`esc -> ../../…/VICTIM`, then `esc/new`."""
    return Case([small_base(), victim_dirs(vr) + [sym("esc", UP + vr), f("esc/new", "pwned\n")]])


@case
def T06b_symlink_chain(v, vr, **_):
    """`l1 -> /tmp/../VICTIM`, `l2 -> l1`, `l3 -> l2/../` + basename, then `l3/new`."""
    base = os.path.basename(v)
    return Case([small_base(), victim_dirs(vr) + [sym("l1", "/tmp/../" + vr), sym("l2", "l1"),
                                                  sym("l3", "l2/../" + base), f("l3/new", "pwned\n")]])


@case
def T07_symlink_lower_layer(v, vr, **_):
    """`esc -> VICTIM` in layer 1, `esc/new` and `esc/canary` in layer 2."""
    return Case([small_base() + victim_dirs(vr) + [sym("esc", v)], [f("esc/new", "pwned\n"), f("esc/canary", "pwned\n")]])


@case
def T08_dir_replaced_by_symlink(v, vr, **_):
    """`d/`, `d/a`, then `d -> VICTIM` (replacing the directory), then `d/new` (CVE-2025-47290)."""
    return Case([small_base(), victim_dirs(vr) + [d("d"), f("d/a", "a\n"), sym("d", v), f("d/new", "pwned\n")]])


@case
def T09a_symlink_named_dotdot(v, vr, **_):
    """`sub/` then a symlink named `sub/..` to VICTIM, then `sub/../new`."""
    return Case([small_base(), [d("sub"), sym("sub/..", v), f("sub/../new", "pwned\n")]])


@case
def T09b_symlink_empty_name(v, vr, **_):
    """A symlink with an empty name to VICTIM, then `new`."""
    return Case([small_base(), [sym("", v), f("new", "pwned\n")]])


# -- T10-T14: hard links ----------------------------------------------------------------------------

@case
def T10a_hardlink_absolute(v, vr, **_):
    """ROOT/VICTIM/canary exists in the layer; `h` links to the absolute `/VICTIM/canary`: resolved in root."""
    return Case([small_base(), victim_dirs(vr) + [f(vr + "/canary", "inner\n"), link("h", v + "/canary")]])


@case
def T10b_hardlink_relative_up(v, vr, **_):
    """`h` links to `../../…/VICTIM/canary`, which the image does not have."""
    return Case([small_base(), [link("h", UP + vr + "/canary")]], bad="h")


@case
def T11_hardlink_to_symlink(v, vr, **_):
    """`s -> VICTIM/canary`, then `h` hard-links `s` with mode 04777 (CVE-2021-32760)."""
    return Case([small_base(), [sym("s", v + "/canary"), link("h", "s", mode=0o4777)]])


@case
def T12_hardlink_through_symlink(v, vr, **_):
    """`d -> VICTIM`, then `l` hard-links `d/canary` (not in the image)."""
    return Case([small_base(), [sym("d", v), link("l", "d/canary")]], bad="l")


@case
def T13a_hardlink_with_data_pax(v, vr, **_):
    """A hard link entry carrying 5 bytes of data, in a pax archive, where tar readers must obey the
    size (libarchive #746): the data must not be written into the link's target."""
    return Case([small_base(), [f("f", "orig\n"), link("h", "f", data="EVIL!", pax={"comment": "pax"})]])


@case
def T13b_hardlink_with_data_ustar(v, vr, **_):
    """The same in a plain ustar archive, where readers ignore a hard link's size: the 5 bytes are
    then read as the next header."""
    return Case([small_base(), [f("f", "orig\n"), link("h", "f", data="EVIL!")]], bad="h")


@case
def T14a_hardlink_self(v, vr, **_):
    """`f`, then `f` as a hard link to itself (libarchive #661)."""
    return Case([small_base(), [f("f", "self\n"), link("f", "f")]], bad="f")


@case
def T14b_hardlink_dir(v, vr, **_):
    """A hard link to a directory."""
    return Case([small_base(), [d("dd"), link("h", "dd")]], bad="h")


@case
def T14c_hardlink_lower_layer(v, vr, **_):
    """Layer 2 hard-links a file of layer 1."""
    return Case([small_base() + [f("lowerfile", "lower\n")], [link("h", "lowerfile")]])


# -- T15-T22: whiteouts -----------------------------------------------------------------------------

@case
def T15a_whiteout_dotdot(v, vr, **_):
    return Case([small_base(), [f(".wh..")]], bad=".wh..")


@case
def T15b_whiteout_dotdotdot(v, vr, **_):
    return Case([small_base(), [f(".wh...")]], bad=".wh...")


@case
def T15c_whiteout_dotdot_in_dir(v, vr, **_):
    return Case([small_base(), [f("etc/.wh..")]], bad="etc/.wh..")


@case
def T16_whiteout_empty(v, vr, **_):
    return Case([small_base(), [f("etc/.wh.")]], bad="etc/.wh.")


@case
def T17a_whiteout_through_symlink(v, vr, **_):
    """Layer 1: `link -> VICTIM` and ROOT/VICTIM/canary; layer 2: `link/.wh.canary`."""
    return Case([small_base() + victim_dirs(vr) + [f(vr + "/canary", "inner\n"), sym("link", v)],
                 [f("link/.wh.canary")]])


@case
def T17b_opaque_through_symlink(v, vr, **_):
    """Layer 1: `link -> VICTIM` and ROOT/VICTIM/canary; layer 2: `link/.wh..wh..opq`."""
    return Case([small_base() + victim_dirs(vr) + [f(vr + "/canary", "inner\n"), sym("link", v)],
                 [f("link/.wh..wh..opq")]])


@case
def T18a_whiteout_symlink(v, vr, **_):
    """Layer 1: `s -> VICTIM/canary`; layer 2 whites out `s`: the link goes, the target stays."""
    return Case([small_base() + [sym("s", v + "/canary")], [wh("s")]])


@case
def T18b_whiteout_prefix_dir(v, vr, **_):
    """`.wh.x/file`: a whiteout prefix on a directory component is an ordinary name."""
    return Case([small_base() + [f("x", "x stays\n")], [f(".wh.x/file", "ordinary\n")]])


@case
def T19a_opaque_after_siblings(v, vr, **_):
    """Layer 2 writes `o/c` before `o/.wh..wh..opq`: the opaque marker still hides only lower children."""
    return Case([small_base() + [d("o"), f("o/a", "a\n"), f("o/b", "b\n")],
                 [d("o"), f("o/c", "c\n"), dict(type="opaque", name="o")]])


@case
def T19b_whiteout_and_same_name(v, vr, **_):
    """Layer 2: `.wh.f` then `f`, and `g` then `.wh.g`: same-layer files are not hidden."""
    return Case([small_base() + [d("w"), f("w/f", "lower\n"), f("w/g", "lower\n")],
                 [wh("w/f"), f("w/f", "new\n"), f("w/g", "new\n"), wh("w/g")]])


@case
def T20a_whiteout_in_base(v, vr, **_):
    """Whiteouts and an opaque marker in the base layer, which has nothing to hide."""
    return Case([small_base() + [wh("foo"), d("d"), wh("d/bar"), d("o"), dict(type="opaque", name="o"),
                                 f("o/kept", "kept\n")]])


@case
def T20b_whiteout_dir_absent_below(v, vr, **_):
    """Layer 2 whites out a name in a directory no lower layer has."""
    return Case([small_base(), [d("newdir"), wh("newdir/x"), f("newdir/y", "y\n")]])


@case
def T21_forged_overlay_metadata(v, vr, **_):
    """Layer 2 carries trusted.overlay.opaque / user.overlay.opaque / trusted.overlay.redirect xattrs
    and a real 0:0 char device over a lower file."""
    return Case([small_base() + [d("o"), f("o/lower", "lower\n"), d("u"), f("u/lower", "lower\n"),
                                 f("shadow", "lower\n"), d("r")],
                 [d("o", xattrs={"trusted.overlay.opaque": b"y"}),
                  d("u", xattrs={"user.overlay.opaque": b"y"}),
                  d("r", xattrs={"trusted.overlay.redirect": b"/o"}),
                  dict(type="chr", name="shadow", major=0, minor=0, mode=0o666)]])


# -- T23: special files -----------------------------------------------------------------------------

@case
def T23a_devices(v, vr, **_):
    """Char 1:3, block 8:0, a fifo, setuid and setgid files."""
    return Case([small_base() + [d("devs"), dict(type="chr", name="devs/null", major=1, minor=3),
                                 dict(type="blk", name="devs/sda", major=8, minor=0),
                                 dict(type="fifo", name="devs/fifo"),
                                 f("suid", "#!/bin/sh\n", 0o4755), f("sgid", "#!/bin/sh\n", 0o2755)]])


@case
def T23b_device_major_64bit(v, vr, **_):
    """A char device whose major does not fit in 32 bits (GNU base-256 number)."""
    return Case([small_base(), dict(entries=[dict(type="chr", name="bigdev", major=1 << 33, minor=1)], fmt="gnu")],
                bad="bigdev")


# -- T27: decompression bomb ------------------------------------------------------------------------

def _zeros(n):
    class Zeros(io.RawIOBase):
        def __init__(self):
            self.left = n

        def readable(self):
            return True

        def readinto(self, b):
            k = min(len(b), self.left)
            b[:k] = bytes(k)
            self.left -= k
            return k
    return io.BufferedReader(Zeros(), 1 << 20)


@case
def T27_gzip_bomb(v, vr, **_):
    """One file of 1 GiB of zeros: about 1 MiB of gzip (1000:1)."""
    n = 1 << 30
    return Case([small_base(), [dict(type="file", name="bomb", size=n, stream=lambda: _zeros(n))]])


# -- T29-T35: JSON, digests, blobs ------------------------------------------------------------------

def _index_of(out):
    with open(os.path.join(out, "index.json")) as fh:
        return json.load(fh)


def _write_index(out, idx):
    with open(os.path.join(out, "index.json"), "wb") as fh:
        fh.write(ob.canonical_json(idx))


@case
def T29a_huge_index_json(v, vr, **_):
    """index.json of 5 MiB (an annotation)."""
    def index_fn(idx):
        idx["annotations"] = {"pad": "x" * (5 << 20)}
    return Case([small_base()], index_fn=index_fn, bad="index.json")


@case
def T29b_huge_config(v, vr, **_):
    """An image config of 5 MiB (a label)."""
    def config_fn(c):
        c["config"]["Labels"] = {"pad": "x" * (5 << 20)}
    return Case([small_base()], config_fn=config_fn, bad="config")


@case
def T29c_deep_json(v, vr, **_):
    """A config with 100000 nested arrays in an unknown field."""
    return Case([small_base()], post=_deep_json, bad="config")


def _deep_json(out, facts):
    """Rewrite the config blob with a deeply nested unknown field, and the manifest and index.json
    that point to it."""
    cfg_raw = open(os.path.join(out, "blobs", "sha256", facts["config"][7:]), "rb").read()
    deep = b'{"x":' + b"[" * 100000 + b"]" * 100000 + b"," + cfg_raw[1:]
    _replace_config(out, facts, deep)


def _replace_config(out, facts, raw):
    lay = ob.Layout(out)
    cdesc = lay.add_blob(raw, ob.MT_CONFIG)
    man = json.load(open(lay.blob_path(facts["manifest"])))
    man["config"] = cdesc
    mdesc = lay.add_json(man, ob.MT_MANIFEST)
    idx = _index_of(out)
    idx["manifests"][0].update(digest=mdesc["digest"], size=mdesc["size"])
    _write_index(out, idx)
    facts.update(config=cdesc["digest"], manifest=mdesc["digest"], bad=cdesc["digest"])


@case
def T29d_manifests_null(v, vr, **_):
    """index.json with `"manifests": null`."""
    def index_fn(idx):
        idx["manifests"] = None
    return Case([small_base()], index_fn=index_fn, bad="index.json")


@case
def T29e_nested_index_depth(v, vr, **_):
    """index.json -> 12 nested indexes -> the manifest (the limit is 8)."""
    return Case([small_base()], post=_nest_index(12))


@case
def T29f_nested_index_ok(v, vr, **_):
    """index.json -> 3 nested indexes -> the manifest: within the limit."""
    return Case([small_base()], post=_nest_index(3))


def _nest_index(depth):
    def post(out, facts):
        lay = ob.Layout(out)
        idx = _index_of(out)
        desc = dict(idx["manifests"][0])
        desc.pop("annotations", None)
        for _ in range(depth):
            desc = lay.add_index([desc])
        desc["annotations"] = {ob.REF_NAME: REF}
        idx["manifests"] = [desc]
        _write_index(out, idx)
        facts["bad"] = "index.json"
    return post


def _bad_digest_in_index(digest):
    def index_fn(idx):
        idx["manifests"][0]["digest"] = digest
    return index_fn


@case
def T30a_digest_dotdot(v, vr, **_):
    return Case([small_base()], index_fn=_bad_digest_in_index("sha256:../../../../../../" + vr + "/canary"),
                bad="invalid digest")


@case
def T30b_digest_uppercase(v, vr, **_):
    return Case([small_base()], index_fn=_bad_digest_in_index("sha256:" + "AB" * 32), bad="invalid digest")


@case
def T30c_digest_short(v, vr, **_):
    return Case([small_base()], index_fn=_bad_digest_in_index("sha256:abcdef"), bad="invalid digest")


@case
def T30d_digest_unknown_algorithm(v, vr, **_):
    return Case([small_base()], index_fn=_bad_digest_in_index("sha512:" + "ab" * 64), bad="sha512")


@case
def T30e_layer_digest_slash(v, vr, **_):
    """A manifest layer digest `sha256:<64 hex>/../../x`."""
    def manifest_fn(m):
        m["layers"][0]["digest"] = m["layers"][0]["digest"] + "/../../../" + vr + "/canary"
    return Case([small_base()], manifest_fn=manifest_fn, bad="invalid digest")


@case
def T30f_config_digest_dotdot(v, vr, **_):
    def manifest_fn(m):
        m["config"]["digest"] = "sha256:" + "../" * 20 + vr + "/canary"
    return Case([small_base()], manifest_fn=manifest_fn, bad="invalid digest")


@case
def T31a_blob_digest_mismatch(v, vr, **_):
    """A layer blob whose content no longer matches its digest (one byte changed, size kept)."""
    def post(out, facts):
        p = os.path.join(out, "blobs", "sha256", facts["layers"][0][7:])
        with open(p, "r+b") as fh:
            fh.seek(100)
            b = fh.read(1)
            fh.seek(100)
            fh.write(bytes([b[0] ^ 0xFF]))
        facts["bad"] = facts["layers"][0]
    return Case([small_base() + [f("pad", "p" * 4000)]], post=post)


@case
def T31b_blob_longer_than_size(v, vr, **_):
    """The manifest says the layer is 10 bytes shorter than it is."""
    def manifest_fn(m):
        m["layers"][0]["size"] -= 10
    return Case([small_base()], manifest_fn=manifest_fn, post=_bad_layer0)


@case
def T31c_negative_size(v, vr, **_):
    def manifest_fn(m):
        m["layers"][0]["size"] = -1
    return Case([small_base()], manifest_fn=manifest_fn, post=_bad_layer0)


@case
def T31d_blob_shorter_than_size(v, vr, **_):
    def manifest_fn(m):
        m["layers"][0]["size"] += 10
    return Case([small_base()], manifest_fn=manifest_fn, post=_bad_layer0)


def _bad_layer0(out, facts):
    facts["bad"] = facts["layers"][0]


@case
def T32a_diff_id_mismatch(v, vr, **_):
    """The config's diff_id for layer 2 is the sha256 of other bytes."""
    def config_fn(c):
        c["rootfs"]["diff_ids"][1] = "sha256:" + ob.sha256_hex(b"not this layer")
    return Case([small_base(), [f("two", "2\n")]], config_fn=config_fn, post=_bad_layer(1))


def _bad_layer(i):
    def post(out, facts):
        facts["bad"] = facts["layers"][i]
    return post


@case
def T32b_diff_ids_count(v, vr, **_):
    """Two layers, one diff_id."""
    def config_fn(c):
        del c["rootfs"]["diff_ids"][1]
    return Case([small_base(), [f("two", "2\n")]], config_fn=config_fn, bad="diff_ids")


@case
def T32c_rootfs_type(v, vr, **_):
    def config_fn(c):
        c["rootfs"]["type"] = "notlayers"
    return Case([small_base()], config_fn=config_fn, bad="rootfs.type")


@case
def T33a_gzip_trailing_garbage(v, vr, **_):
    """Bytes after the end of the gzip stream (inside the blob, so the digest matches)."""
    return Case([small_base(), dict(entries=[f("two", "2\n")], tail=b"trailing garbage after gzip\n")],
                post=_bad_layer(1))


@case
def T33b_gzip_multi_member(v, vr, **_):
    """A layer blob made of two gzip members whose concatenation is the tar (valid gzip)."""
    return Case([small_base(), [f("two", "2\n"), f("three", "3\n")]], post=_split_gzip(1))


def _split_gzip(i):
    def post(out, facts):
        lay = ob.Layout(out)
        man = json.load(open(lay.blob_path(facts["manifest"])))
        raw = gzip.decompress(open(lay.blob_path(man["layers"][i]["digest"]), "rb").read())
        half = len(raw) // 2
        blob = gzip.compress(raw[:half], mtime=0) + gzip.compress(raw[half:], mtime=0)
        man["layers"][i] = lay.add_blob(blob, man["layers"][i]["mediaType"])
        mdesc = lay.add_json(man, ob.MT_MANIFEST)
        idx = _index_of(out)
        idx["manifests"][0].update(digest=mdesc["digest"], size=mdesc["size"])
        _write_index(out, idx)
        facts.update(manifest=mdesc["digest"], bad=man["layers"][i]["digest"])
        facts["layers"][i] = man["layers"][i]["digest"]
    return post


@case
def T34a_index_typed_as_manifest(v, vr, **_):
    """index.json says "manifest" for a blob that is an image index."""
    def post(out, facts):
        lay = ob.Layout(out)
        idx = _index_of(out)
        inner = dict(idx["manifests"][0])
        inner.pop("annotations")
        desc = lay.add_index([inner])
        desc["mediaType"] = ob.MT_MANIFEST
        desc["annotations"] = {ob.REF_NAME: REF}
        idx["manifests"] = [desc]
        _write_index(out, idx)
        facts["bad"] = desc["digest"]
    return Case([small_base()], post=post)


@case
def T34b_manifest_typed_as_index(v, vr, **_):
    """index.json says "index" for a blob that is an image manifest."""
    def index_fn(idx):
        idx["manifests"][0]["mediaType"] = ob.MT_INDEX
    return Case([small_base()], index_fn=index_fn, post=lambda out, facts: facts.update(bad=facts["manifest"]))


@case
def T34c_config_not_image_config(v, vr, **_):
    """The manifest's config descriptor has a layer media type."""
    def manifest_fn(m):
        m["config"]["mediaType"] = ob.MT_LAYER["gzip"]
    return Case([small_base()], manifest_fn=manifest_fn, bad="mediaType")


@case
def T34d_layer_unknown_type(v, vr, **_):
    """A manifest layer of media type application/vnd.example.unknown."""
    def manifest_fn(m):
        m["layers"][0]["mediaType"] = "application/vnd.example.unknown"
    return Case([small_base()], manifest_fn=manifest_fn, bad="mediaType")


@case
def T35_chainid_poisoning(v, vr, **_):
    """Two images in one layout: "good" and "evil".  evil's config claims good's diff_ids but its
    layer blob holds other files ("evil" content)."""
    return Case(None)


# -- T36-T38: config -> runtime spec ----------------------------------------------------------------

def _user_case(user, passwd=PASSWD, group=GROUP):
    return Case([[d("etc"), f("etc/passwd", passwd), f("etc/group", group), d("bin")]],
                config={"Cmd": ["/bin/true"], "User": user})


@case
def T36a_uid_2p32(v, vr, **_):
    return _user_case("4294967296")


@case
def T36b_uid_2p32_minus_1(v, vr, **_):
    return _user_case("4294967295")


@case
def T36c_uid_2p31(v, vr, **_):
    """2^31 fits in a uid_t (0..4294967294): accepted, never wrapped."""
    return _user_case("2147483648:2147483649")


@case
def T36d_passwd_uid_overflow(v, vr, **_):
    """/etc/passwd gives user `big` the uid 4294967296 (which would wrap to 0)."""
    return _user_case("big", passwd=PASSWD + "big:x:4294967296:4294967296::/:/bin/sh\n")


@case
def T36e_gid_overflow(v, vr, **_):
    return _user_case("1000:4294967296")


@case
def T36f_negative(v, vr, **_):
    """"-1": not digits, so a name, not found."""
    return _user_case("-1")


@case
def T37a_passwd_symlink_to_host(v, vr, **_):
    """/etc/passwd -> VICTIM/passwd (the host file gives `app` the uid 4242)."""
    return Case([[d("etc"), sym("etc/passwd", v + "/passwd"), f("etc/group", GROUP), d("bin")]],
                config={"Cmd": ["/bin/true"], "User": "app"})


@case
def T37b_passwd_fifo(v, vr, **_):
    return Case([[d("etc"), dict(type="fifo", name="etc/passwd"), f("etc/group", GROUP), d("bin")]],
                config={"Cmd": ["/bin/true"], "User": "app"})


@case
def T37c_group_char_device(v, vr, **_):
    """/etc/group is the char device 1:5 (/dev/zero)."""
    return Case([[d("etc"), f("etc/passwd", PASSWD), dict(type="chr", name="etc/group", major=1, minor=5), d("bin")]],
                config={"Cmd": ["/bin/true"], "User": "app"})


@case
def T37d_passwd_huge(v, vr, **_):
    """/etc/passwd of 5 MiB (the cap is 4 MiB)."""
    big = PASSWD + "".join("u%d:x:%d:%d::/:/bin/sh\n" % (i, 10000 + i, 10000 + i) for i in range(200000))
    return _user_case("app", passwd=big[: 5 << 20])


@case
def T37e_group_many_lines(v, vr, **_):
    """/etc/group of 150000 lines, under 4 MiB (the cap is 100000 lines)."""
    return _user_case("app", group=GROUP + "g:x:1:\n" * 150000)


@case
def T37f_passwd_symlink_dev_zero(v, vr, **_):
    """/etc/passwd -> /dev/zero (no /dev/zero in the image)."""
    return Case([[d("etc"), sym("etc/passwd", "/dev/zero"), f("etc/group", GROUP), d("bin")]],
                config={"Cmd": ["/bin/true"], "User": "app"})


@case
def T38a_volumes_dotdot(v, vr, **_):
    """config.Volumes with `..` climbing to VICTIM (CVE-2022-23648)."""
    return Case([small_base()], config={"Cmd": ["/bin/true"],
                                        "Volumes": {"/../../../../../../" + vr: {}, "/data/../../" + vr + "/x": {}}})


@case
def T38b_workdir_proc_fd(v, vr, busybox=None, probe=None, **_):
    """WorkingDir /proc/self/fd/7 (CVE-2024-21626)."""
    return Case([busybox_base(busybox, probe)], config={"Entrypoint": ["/probe"], "Cmd": ["cwd"],
                                                         "WorkingDir": "/proc/self/fd/7"})


@case
def T38c_labels_not_commands(v, vr, busybox=None, probe=None, **_):
    """Labels shaped like commands and logger settings: only ever annotations."""
    return Case([busybox_base(busybox, probe)],
                config={"Cmd": ["/bin/true"], "Labels": {
                    "io.containerd.logger": "touch " + v + "/pwned",
                    "com.example.sh": "$(touch " + v + "/pwned2)",
                    "com.example.tick": "`touch " + v + "/pwned3`"}})


# -- building ---------------------------------------------------------------------------------------

def _add_layers(lay, layers):
    out = []
    for l in layers:
        spec = l if isinstance(l, dict) else {"entries": l}
        entries = spec["entries"]
        out.append(lay.add_layer(entries, spec.get("compression", "gzip"), spec.get("fmt", "pax"),
                                 spec.get("media_type"), spec.get("tail", b"")))
    return out


def _build_poisoning(out, v, vr):
    lay = ob.Layout(out)
    base = lay.add_layer(small_base())
    good = lay.add_layer([f("which", "good\n")])
    evil, _ = lay.add_layer([f("which", "evil\n"), f("evil", "evil\n")])
    gdesc, gfacts = lay.add_image([base, good], {"Cmd": ["/bin/true"]})
    # evil's config lists good's diff_ids; its second layer blob is the evil one
    edesc, efacts = lay.add_image([base, (evil, good[1])], {"Cmd": ["/bin/true"]})
    lay.tag(gdesc, "good")
    lay.tag(edesc, "evil")
    lay.save()
    return {"good": gfacts, "evil": efacts, "bad": evil["digest"]}


def build(name, out, victim, busybox=None, probe=None):
    victim = os.path.abspath(victim)
    vr = victim.lstrip("/")
    if name == "T35-chainid-poisoning":
        return _build_poisoning(out, victim, vr)
    c = CASES[name](victim, vr, busybox=busybox, probe=probe)
    lay = ob.Layout(out)
    written = _add_layers(lay, c.layers)
    descs = [w[0] for w in written]
    dids = [w[1] for w in written]
    cfg = {"created": ob.CREATED, "architecture": "amd64", "os": "linux", "config": c.config,
           "rootfs": {"type": "layers", "diff_ids": list(dids)}}
    if c.config_fn:
        c.config_fn(cfg)
    cdesc = lay.add_json(cfg, ob.MT_CONFIG)
    man = {"schemaVersion": 2, "mediaType": ob.MT_MANIFEST, "config": cdesc, "layers": descs}
    if c.manifest_fn:
        c.manifest_fn(man)
    mdesc = lay.add_json(man, ob.MT_MANIFEST)
    lay.tag(mdesc, REF)
    idx = {"schemaVersion": 2, "mediaType": ob.MT_INDEX, "manifests": lay.index}
    if c.index_fn:
        c.index_fn(idx)
    with open(os.path.join(out, "oci-layout"), "wb") as fh:
        fh.write(ob.canonical_json({"imageLayoutVersion": "1.0.0"}))
    _write_index(out, idx)
    facts = {"manifest": mdesc["digest"], "config": cdesc["digest"], "diff_ids": dids,
             "chain_ids": ob.chain_ids(dids), "layers": [x["digest"] for x in descs]}
    if c.bad:
        facts["bad"] = c.bad
    if c.post:
        c.post(out, facts)
    return facts
