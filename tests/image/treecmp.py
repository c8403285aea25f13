#!/usr/bin/env python3
"""treecmp: compare two directory trees the way an image unpacker's result is judged.

    treecmp.py [--mtime] [--root] [--exclude PATH]... A B

For every path below A and B (the roots' own attributes only with --root, as the image-spec leaves
the initial directory's unspecified): the same set of paths; per path the file type, permission bits
(setuid/setgid/sticky included), owner and group, xattrs (except overlayfs' own `trusted.overlay.*`
and `user.overlay.*`), symlink target, device major:minor, regular file size and sha256 content;
and the same hard-link groups (sets of non-directory paths sharing an inode).  --mtime also compares
the mtimes of non-directories.  Never follows symlinks.

Prints one line per difference (at most 100) and exits 1 when there is any, else prints a summary
("identical: N paths, M hard-link groups") and exits 0.  Exit 2 on a usage error.
"""

import argparse
import hashlib
import os
import stat
import sys

OVERLAY_XATTRS = ("trusted.overlay.", "user.overlay.")


def kind(m):
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISCHR, "chr"), (stat.S_ISBLK, "blk"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket")):
        if test(m):
            return name
    return "unknown"


def file_hash(p):
    h = hashlib.sha256()
    fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def describe(p, st, with_mtime):
    """The attributes of path P (lstat ST) that must match, as a dict."""
    k = kind(st.st_mode)
    a = {"type": k, "mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError as e:
        names = ["<listxattr: %s>" % e.strerror]
    xa = {}
    for n in sorted(names):
        if n.startswith(OVERLAY_XATTRS) or n.startswith("<"):
            continue
        try:
            xa[n] = os.getxattr(p, n, follow_symlinks=False)
        except OSError as e:
            xa[n] = "<getxattr: %s>" % e.strerror
    if xa:
        a["xattrs"] = xa
    if k == "symlink":
        a["target"] = os.readlink(p)
        del a["mode"]  # symlink modes carry no meaning on Linux
    elif k in ("chr", "blk"):
        a["rdev"] = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    elif k == "file":
        a["size"] = st.st_size
        a["sha256"] = file_hash(p)
    if with_mtime and k != "dir":
        a["mtime"] = int(st.st_mtime)
    return a


def scan(root, with_mtime, excludes):
    """{relative path: attributes} and the hard-link groups of the tree under ROOT."""
    attrs, inodes = {}, {}
    root_dev = os.lstat(root).st_dev  # noqa: F841 (kept for debugging mount crossings)

    def walk(d, rel):
        try:
            names = sorted(os.listdir(d))
        except OSError as e:
            attrs[rel or "."] = {"error": "listdir: " + e.strerror}
            return
        for n in names:
            r = rel + n
            if r in excludes:
                continue
            p = os.path.join(d, n)
            try:
                st = os.lstat(p)
            except OSError as e:  # e.g. a stray overlay whiteout: listed, but ENOENT on stat
                attrs[r] = {"error": "lstat: " + e.strerror}
                continue
            attrs[r] = describe(p, st, with_mtime)
            if stat.S_ISDIR(st.st_mode):
                walk(p, r + "/")
            else:
                inodes.setdefault((st.st_dev, st.st_ino), []).append(r)

    walk(root, "")
    groups = {frozenset(v) for v in inodes.values() if len(v) > 1}
    return attrs, groups


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mtime", action="store_true")
    ap.add_argument("--root", action="store_true", help="also compare the two roots' own attributes")
    ap.add_argument("--exclude", action="append", default=[], help="a relative path to skip (with its subtree)")
    ap.add_argument("a")
    ap.add_argument("b")
    o = ap.parse_args()
    for d in (o.a, o.b):
        if not os.path.isdir(d):
            ap.error("not a directory: " + d)
    excl = set(x.strip("/") for x in o.exclude)
    A, GA = scan(o.a, o.mtime, excl)
    B, GB = scan(o.b, o.mtime, excl)
    if o.root:
        A["."] = describe(o.a, os.lstat(o.a), o.mtime)
        B["."] = describe(o.b, os.lstat(o.b), o.mtime)
    diffs = []
    for p in sorted(set(A) | set(B)):
        if p not in B:
            diffs.append("only in A: %s (%s)" % (p, A[p].get("type", A[p])))
        elif p not in A:
            diffs.append("only in B: %s (%s)" % (p, B[p].get("type", B[p])))
        elif A[p] != B[p]:
            keys = sorted(set(A[p]) | set(B[p]))
            parts = ["%s A=%r B=%r" % (k, A[p].get(k), B[p].get(k)) for k in keys if A[p].get(k) != B[p].get(k)]
            diffs.append("differs: %s: %s" % (p, "; ".join(parts)))
    # hard-link groups, restricted to paths both trees have (missing paths are reported above)
    common = set(A) & set(B)
    ga = {frozenset(g & common) for g in GA if len(g & common) > 1}
    gb = {frozenset(g & common) for g in GB if len(g & common) > 1}
    for g in sorted(ga - gb, key=sorted):
        diffs.append("hard-link group only in A: %s" % " ".join(sorted(g)))
    for g in sorted(gb - ga, key=sorted):
        diffs.append("hard-link group only in B: %s" % " ".join(sorted(g)))
    if diffs:
        for line in diffs[:100]:
            print(line)
        if len(diffs) > 100:
            print("... and %d more differences" % (len(diffs) - 100))
        return 1
    print("identical: %d paths, %d hard-link groups" % (len(A), len(ga)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
