"""ocibuild: a small, deterministic writer of OCI image layouts, for husk's tests and benchmark.

Python standard library only (tarfile, gzip, json, hashlib); zstd through the `zstd` command.

A layer is described as a list of entries (dicts), written in that order into a tar:

    {"type": "dir",     "name": "etc", "mode": 0o755, "uid": 0, "gid": 0}
    {"type": "file",    "name": "etc/passwd", "data": b"...", "mode": 0o644}
    {"type": "symlink", "name": "lib", "target": "usr/lib"}
    {"type": "link",    "name": "bin/sh", "target": "bin/busybox"}          (hard link)
    {"type": "chr" | "blk", "name": "devs/null", "major": 1, "minor": 3}
    {"type": "fifo",    "name": "devs/fifo"}
    {"type": "whiteout", "name": "etc/old"}      -> an empty file "etc/.wh.old"
    {"type": "opaque",  "name": "opq"}           -> an empty file "opq/.wh..wh..opq"

Optional keys: mode, uid, gid, mtime (default MTIME), xattrs {name: bytes}, pax {key: value},
size (header size, overriding len(data): for hostile layers), path (a host file whose bytes are the
data).  Names are written exactly as given (no cleaning), so hostile layers can be expressed.

Everything is deterministic: fixed mtimes (unless given), empty user/group names, gzip with mtime 0
and no file name, zstd from the same command.  Blobs are written under blobs/sha256/ by content.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile

MTIME = 1700000000  # 2023-11-14T22:13:20Z, every entry's default mtime
CREATED = "2023-11-14T22:13:20Z"

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
REF_NAME = "org.opencontainers.image.ref.name"

_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "link": tarfile.LNKTYPE,
    "chr": tarfile.CHRTYPE,
    "blk": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
}
_DEFAULT_MODE = {"dir": 0o755, "file": 0o644, "symlink": 0o777, "link": 0o644, "chr": 0o666, "blk": 0o660,
                 "fifo": 0o644}


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def chain_ids(diff_ids):
    """ChainIDs (image-spec config.md) of a list of "sha256:<hex>" diff_ids, as "sha256:<hex>"."""
    out = []
    for d in diff_ids:
        if not out:
            out.append(d)
        else:
            out.append("sha256:" + sha256_hex((out[-1] + " " + d).encode()))
    return out


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


class _HashWriter:
    """A write-only file object that hashes and counts what goes through it to FILE."""

    def __init__(self, f):
        self.f = f
        self.h = hashlib.sha256()
        self.n = 0

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)

    def flush(self):
        self.f.flush()

    def tell(self):
        return self.n


def _tarinfo(e):
    kind = e["type"]
    name = e["name"]
    if kind == "whiteout":
        d, b = os.path.split(name)
        name, kind = os.path.join(d, ".wh." + b), "file"
    elif kind == "opaque":
        name, kind = os.path.join(name, ".wh..wh..opq"), "file"
    ti = tarfile.TarInfo(name)
    ti.type = _TYPES[kind]
    ti.mode = e.get("mode", _DEFAULT_MODE[kind])
    ti.uid = e.get("uid", 0)
    ti.gid = e.get("gid", 0)
    ti.uname = ti.gname = ""
    ti.mtime = e.get("mtime", MTIME)
    if kind in ("symlink", "link"):
        ti.linkname = e["target"]
    if kind in ("chr", "blk"):
        ti.devmajor = e.get("major", 0)
        ti.devminor = e.get("minor", 0)
    pax = dict(e.get("pax", {}))
    for k, v in e.get("xattrs", {}).items():
        pax["SCHILY.xattr." + k] = v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else v
    if pax:
        ti.pax_headers = pax
    data = None
    if "stream" in e:  # a function returning a readable file object of e["size"] bytes
        data = e["stream"]()
        ti.size = e["size"]
    elif "path" in e:
        data = open(e["path"], "rb")
        ti.size = e.get("size", os.fstat(data.fileno()).st_size)
    elif "data" in e:
        raw = e["data"]
        raw = raw.encode() if isinstance(raw, str) else raw
        data = io.BytesIO(raw)
        ti.size = e.get("size", len(raw))
    elif "size" in e:
        ti.size = e["size"]
        data = io.BytesIO(b"\0" * e["size"])
    return ti, data


def write_tar(entries, out, fmt="pax"):
    """Write ENTRIES as a tar to the binary file object OUT.  FMT: pax, gnu or ustar."""
    fmts = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}
    with tarfile.open(fileobj=out, mode="w|", format=fmts[fmt], encoding="utf-8",
                      errors="surrogateescape") as tf:
        for e in entries:
            if e.get("type") == "raw":  # bytes written as they are (a hand-made header)
                tf.fileobj.write(e["bytes"])
                tf.offset += len(e["bytes"])
                continue
            ti, data = _tarinfo(e)
            try:
                tf.addfile(ti, data)
            finally:
                if data is not None:
                    data.close()


def dir_entries(root, prefix="", exclude=(), only=None):
    """Entries for the tree under the host directory ROOT (not ROOT itself), depth first in sorted
    order, hard links as links to the first path seen, xattrs (except security.selinux) as PAX
    records.  EXCLUDE: relative paths skipped with everything below them.  ONLY: if given, only paths
    equal to or below one of these (their parent directories are emitted too)."""
    seen = {}
    out = []

    def wanted(rel):
        if any(rel == x or rel.startswith(x + "/") for x in exclude):
            return False
        if only is None:
            return True
        return any(rel == x or rel.startswith(x + "/") or x.startswith(rel + "/") for x in only)

    def walk(d, rel):
        for name in sorted(os.listdir(d)):
            r = rel + name
            if not wanted(r):
                continue
            p = os.path.join(d, name)
            st = os.lstat(p)
            e = {"name": prefix + r, "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                 "mtime": int(st.st_mtime)}
            xa = {}
            try:
                for k in os.listxattr(p, follow_symlinks=False):
                    if k != "security.selinux":
                        xa[k] = os.getxattr(p, k, follow_symlinks=False)
            except OSError:
                pass
            if xa:
                e["xattrs"] = xa
            m = st.st_mode
            if stat.S_ISDIR(m):
                e["type"] = "dir"
                out.append(e)
                walk(p, r + "/")
                continue
            if not stat.S_ISDIR(m) and st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    out.append({"type": "link", "name": prefix + r, "target": seen[key], "mtime": e["mtime"]})
                    continue
                seen[key] = prefix + r
            if stat.S_ISREG(m):
                e.update(type="file", path=p)
            elif stat.S_ISLNK(m):
                e.update(type="symlink", target=os.readlink(p))
            elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
                e.update(type="chr" if stat.S_ISCHR(m) else "blk", major=os.major(st.st_rdev),
                         minor=os.minor(st.st_rdev))
            elif stat.S_ISFIFO(m):
                e["type"] = "fifo"
            else:
                continue  # sockets
            out.append(e)

    walk(root, "")
    return out


class Layout:
    """An OCI image layout directory being written."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        self.index = []  # descriptors for index.json

    # -- blobs ---------------------------------------------------------------------------------
    def blob_path(self, digest):
        return os.path.join(self.path, "blobs", *digest.split(":", 1))

    def add_blob(self, data, media_type, **extra):
        """Store DATA (bytes); returns its descriptor."""
        d = "sha256:" + sha256_hex(data)
        p = self.blob_path(d)
        if not os.path.exists(p):
            with open(p + ".tmp", "wb") as f:
                f.write(data)
            os.rename(p + ".tmp", p)
        desc = {"mediaType": media_type, "digest": d, "size": len(data)}
        desc.update(extra)
        return desc

    def add_blob_file(self, tmp, media_type):
        """Move the file TMP into the blob store; returns its descriptor."""
        h = hashlib.sha256()
        with open(tmp, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        d = "sha256:" + h.hexdigest()
        size = os.path.getsize(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.blob_path(d))
        return {"mediaType": media_type, "digest": d, "size": size}

    def add_json(self, obj, media_type, **extra):
        return self.add_blob(canonical_json(obj), media_type, **extra)

    # -- layers --------------------------------------------------------------------------------
    def add_layer(self, entries, compression="gzip", fmt="pax", media_type=None, tail=b""):
        """Write a layer from ENTRIES, streamed (tar -> diff_id hash -> compressor -> blob hash -> file).
        COMPRESSION: gzip, zstd or none.  TAIL: bytes appended to the compressed blob (hostile tests).
        Returns (descriptor, diff_id)."""
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-layer-")
        try:
            with os.fdopen(fd, "wb") as out:
                diff = write_compressed(lambda w: write_tar(entries, w, fmt), out, compression)
                out.write(tail)
            desc = self.add_blob_file(tmp, media_type or MT_LAYER[compression])
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return desc, diff

    # -- images --------------------------------------------------------------------------------
    def add_image(self, layers, config=None, arch="amd64", variant=None, os_name="linux",
                  compression="gzip", diff_ids=None, manifest_annotations=None, config_extra=None):
        """Write the LAYERS (lists of entries, base first, or (descriptor, diff_id) pairs already
        written) and an image config with process config CONFIG; returns the manifest descriptor
        (with its platform) and a dict of facts (diff_ids, chain_ids, config digest)."""
        descs, dids = [], []
        for l in layers:
            if isinstance(l, tuple):
                d, did = l
            else:
                d, did = self.add_layer(l, compression)
            descs.append(d)
            dids.append(did)
        cfg = {
            "created": CREATED,
            "architecture": arch,
            "os": os_name,
            "config": config or {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids if diff_ids is not None else dids},
            "history": [{"created": CREATED, "created_by": "ocibuild layer %d" % i} for i in range(len(dids))],
        }
        if variant:
            cfg["variant"] = variant
        if config_extra:
            cfg.update(config_extra)
        cdesc = self.add_json(cfg, MT_CONFIG)
        man = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": cdesc, "layers": descs}
        if manifest_annotations:
            man["annotations"] = manifest_annotations
        plat = {"architecture": arch, "os": os_name}
        if variant:
            plat["variant"] = variant
        mdesc = self.add_json(man, MT_MANIFEST, platform=plat)
        facts = {"manifest": mdesc["digest"], "config": cdesc["digest"], "diff_ids": dids,
                 "chain_ids": chain_ids(dids), "layers": [d["digest"] for d in descs]}
        return mdesc, facts

    def add_index(self, descs, annotations=None):
        """An image index blob holding DESCS; returns its descriptor."""
        idx = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": descs}
        if annotations:
            idx["annotations"] = annotations
        return self.add_json(idx, MT_INDEX)

    def tag(self, desc, ref):
        """Add DESC to index.json, named REF (None: no ref name)."""
        d = dict(desc)
        if ref is not None:
            d["annotations"] = dict(d.get("annotations", {}), **{REF_NAME: ref})
        self.index.append(d)

    def save(self):
        with open(os.path.join(self.path, "oci-layout"), "wb") as f:
            f.write(canonical_json({"imageLayoutVersion": "1.0.0"}))
        with open(os.path.join(self.path, "index.json"), "wb") as f:
            f.write(canonical_json({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": self.index}))


def write_compressed(produce, out, compression):
    """Call PRODUCE(w) with a file object W whose bytes are hashed, compressed by COMPRESSION (gzip,
    zstd, none) and written to the binary file OUT.  Returns "sha256:<hex>" of the uncompressed bytes."""
    if compression == "none":
        hw = _HashWriter(out)
        produce(hw)
    elif compression == "gzip":
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
            hw = _HashWriter(gz)
            produce(hw)
    elif compression == "zstd":
        out.flush()
        p = subprocess.Popen(["zstd", "-q", "-3", "-c", "--no-progress"], stdin=subprocess.PIPE, stdout=out)
        hw = _HashWriter(p.stdin)
        try:
            produce(hw)
        finally:
            p.stdin.close()
            if p.wait() != 0:
                raise RuntimeError("zstd failed")
        out.seek(0, os.SEEK_END)
    else:
        raise ValueError("unknown compression " + compression)
    return "sha256:" + hw.h.hexdigest()


def decompress(data, compression):
    """The uncompressed bytes of DATA."""
    if compression == "gzip":
        return gzip.decompress(data)
    if compression == "zstd":
        return subprocess.run(["zstd", "-q", "-d", "-c"], input=data, check=True, capture_output=True).stdout
    return data


def read_layout_image(path, ref=None):
    """Facts about the image REF (or the lone image) of the layout PATH: follows index.json to a
    manifest (the first one of a nested index whose platform is linux/amd64).  Returns a dict like
    Layout.add_image's facts."""
    def blob(d):
        with open(os.path.join(path, "blobs", *d.split(":", 1)), "rb") as f:
            return json.load(f)
    with open(os.path.join(path, "index.json")) as f:
        idx = json.load(f)
    cands = [m for m in idx["manifests"] if ref is None or m.get("annotations", {}).get(REF_NAME) == ref]
    if len(cands) != 1:
        raise SystemExit("read_layout_image: %d manifests match ref %r" % (len(cands), ref))
    desc = cands[0]
    while desc["mediaType"] == MT_INDEX:
        sub = blob(desc["digest"])["manifests"]
        desc = next(m for m in sub if m.get("platform", {}).get("architecture") == "amd64")
    man = blob(desc["digest"])
    cfg = blob(man["config"]["digest"])
    dids = cfg["rootfs"]["diff_ids"]
    return {"manifest": desc["digest"], "config": man["config"]["digest"], "diff_ids": dids,
            "chain_ids": chain_ids(dids), "layers": [l["digest"] for l in man["layers"]]}


def write_oci_archive(layout, out):
    """A tar of the layout directory LAYOUT (the OCI archive format of `skopeo copy oci-archive:`)."""
    entries = []
    for name in ("oci-layout", "index.json"):
        entries.append({"type": "file", "name": name, "path": os.path.join(layout, name)})
    entries.append({"type": "dir", "name": "blobs"})
    entries.append({"type": "dir", "name": "blobs/sha256"})
    for b in sorted(os.listdir(os.path.join(layout, "blobs", "sha256"))):
        entries.append({"type": "file", "name": "blobs/sha256/" + b, "path": os.path.join(layout, "blobs", "sha256", b)})
    with open(out, "wb") as f:
        write_tar(entries, f, "pax")


def write_docker_archive(layout, ref, out, repo_tag):
    """A `docker save` style tar (manifest.json, <config hex>.json, <layer id>/layer.tar with the
    uncompressed layers, repositories) of image REF of LAYOUT, tagged REPO_TAG ("name:tag")."""
    facts = read_layout_image(layout, ref)
    tmp = tempfile.mkdtemp(prefix=".tmp-docker-", dir=os.path.dirname(os.path.abspath(out)))
    try:
        entries = []
        with open(os.path.join(layout, "blobs", "sha256", facts["manifest"][7:]), "rb") as f:
            man = json.load(f)
        cfg_hex = facts["config"][7:]
        entries.append({"type": "file", "name": cfg_hex + ".json",
                        "path": os.path.join(layout, "blobs", "sha256", cfg_hex)})
        names = []
        for i, l in enumerate(man["layers"]):
            lid = facts["chain_ids"][i][7:]
            src = os.path.join(layout, "blobs", "sha256", l["digest"][7:])
            dst = os.path.join(tmp, lid + ".tar")
            if l["mediaType"].endswith("+gzip"):
                with gzip.open(src, "rb") as s, open(dst, "wb") as d:
                    shutil.copyfileobj(s, d, 1 << 20)
            elif l["mediaType"].endswith("+zstd"):
                subprocess.run(["zstd", "-q", "-d", "-f", src, "-o", dst], check=True)
            else:
                shutil.copyfile(src, dst)
            entries.append({"type": "dir", "name": lid})
            entries.append({"type": "file", "name": lid + "/VERSION", "data": b"1.0"})
            entries.append({"type": "file", "name": lid + "/layer.tar", "path": dst})
            names.append(lid + "/layer.tar")
        name, tag = repo_tag.rsplit(":", 1)
        entries.append({"type": "file", "name": "manifest.json",
                        "data": json.dumps([{"Config": cfg_hex + ".json", "RepoTags": [repo_tag], "Layers": names}]).encode()})
        entries.append({"type": "file", "name": "repositories",
                        "data": json.dumps({name: {tag: facts["chain_ids"][-1][7:]}}).encode()})
        with open(out, "wb") as f:
            write_tar(entries, f, "pax")
    finally:
        shutil.rmtree(tmp)
