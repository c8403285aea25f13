#!/usr/bin/env python3
"""mkimage: build the OCI images husk's image tests use, deterministically, at test time.

    mkimage.py busybox OUT [--compression gzip|zstd|none] [--ref NAME] [--busybox PATH] [--probe PATH]
        the three-layer busybox image (layers described in busybox_layers below), ref "busybox"
    mkimage.py shared OUT [...]            a second image sharing the busybox base layer, ref "shared"
    mkimage.py flat OUT [...]              the same four entries listed in index.json itself, each
                                           with the ref "flat"
    mkimage.py two OUT [...]               one layout holding both: refs "busybox" and "shared"
    mkimage.py multi OUT [...]             a nested index: unknown/unknown attestation, linux/amd64,
                                           linux/arm64/v8, linux/arm/v7 (ref "multi"); each image's
                                           /arch holds its platform
    mkimage.py oci-archive LAYOUT FILE     a tar of LAYOUT
    mkimage.py docker-archive LAYOUT REF FILE NAME:TAG   a `docker save` style tar, in Python
    mkimage.py facts LAYOUT [REF]          JSON: manifest, config, diff_ids, chain_ids, layers
    mkimage.py hostile CASE OUT --victim DIR [--busybox PATH] [--probe PATH]
    mkimage.py hostile-list                the hostile case names (hostile.py)
    mkimage.py dir ROOT OUT --ref NAME [--split PATH]... [--compression C]
                                           an image of a host directory tree: layer 1 is everything
                                           but the --split paths, layer 2 the --split paths

The busybox binary (Debian's busybox-static, /bin/busybox by default) and the probe are read at
build time, never committed.  Stdout: the facts JSON of the image written (except for archives).
"""

import argparse
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ocibuild as ob  # noqa: E402

BUSYBOX = "/bin/busybox"

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1000:app user:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\napp:x:1000:\nextra:x:2000:nobody,app\nother:x:3000:nobody\nnogroup:x:65534:\n"

# The image config's process part (config.md "config").
CONFIG = {
    "Entrypoint": ["/bin/echo", "ep"],
    "Cmd": ["cmd1", "cmd 2"],
    "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FOO=bar baz", "EMPTY="],
    "WorkingDir": "/home/app/work",
    "User": "app",
    "Labels": {"org.example.label": "hello", "org.example.empty": ""},
    "StopSignal": "SIGINT",
}


def applets(busybox):
    """busybox's applet paths ("bin/ls", "usr/bin/awk"...), sorted."""
    out = subprocess.run([busybox, "--list-full"], check=True, capture_output=True, text=True).stdout
    return sorted(p for p in out.split() if "/" in p)


def d(name, mode=0o755, uid=0, gid=0, **kw):
    return dict(type="dir", name=name, mode=mode, uid=uid, gid=gid, **kw)


def f(name, data=b"", mode=0o644, uid=0, gid=0, **kw):
    return dict(type="file", name=name, data=data, mode=mode, uid=uid, gid=gid, **kw)


def busybox_base(busybox, probe=None, extra_etc=None):
    """The base layer: busybox with its applets (bin/ and sbin/ as hard links, usr/bin/ as relative
    and usr/sbin/ as absolute symlinks), /etc/passwd and /etc/group, merged-/usr `lib -> usr/lib`,
    and the lower halves of what layer 2 changes."""
    e = [d("bin"), d("sbin"), d("dev"), d("proc"), d("sys"), d("etc"), d("tmp", 0o1777), d("root", 0o700),
         d("home"), d("home/app", 0o755, 1000, 1000), d("usr"), d("usr/bin"), d("usr/sbin"), d("usr/lib"),
         d("usr/share"),
         # the `pt` case: layer 2 adds usr/share/keep/f without listing usr/share/keep/
         d("usr/share/keep", 0o700, 1234, 1234),
         f("usr/share/keep/old", b"old\n", 0o600, 1234, 1234),
         dict(type="symlink", name="lib", target="usr/lib"),
         f("usr/lib/libdummy.so", b"dummy\n"),
         dict(type="file", name="bin/busybox", path=busybox, mode=0o755)]
    for a in applets(busybox):
        if a == "bin/busybox":
            continue
        top = a.split("/")[0]
        if top in ("bin", "sbin"):
            e.append(dict(type="link", name=a, target="bin/busybox"))
        elif a.startswith("usr/bin/"):
            e.append(dict(type="symlink", name=a, target="../../bin/busybox"))
        else:
            e.append(dict(type="symlink", name=a, target="/bin/busybox"))
    e += [f("etc/passwd", PASSWD), f("etc/group", GROUP),
          f("etc/motd", b"motd from layer 1\n"),
          f("etc/delete-me", b"deleted by layer 2\n"),
          f("etc/xattr-file", b"x\n", xattrs={"user.husk.test": b"hello"}),
          f("etc/suid", b"#!/bin/sh\n", 0o4755), f("etc/sgid", b"#!/bin/sh\n", 0o2750, 0, 1000),
          d("devs"), dict(type="chr", name="devs/null", major=1, minor=3, mode=0o666),
          dict(type="blk", name="devs/sda", major=8, minor=0, mode=0o660, gid=6),
          dict(type="fifo", name="devs/fifo", mode=0o600),
          d("var"), d("var/olddir"), f("var/olddir/a", b"a\n"), d("var/olddir/sub"), f("var/olddir/sub/b", b"b\n"),
          d("opq"), f("opq/lower1", b"lower1\n"), d("opq/lowersub"), f("opq/lowersub/x", b"x\n"),
          f("replace-me", b"a file in layer 1, a directory in layer 2\n"),
          d("dir-to-file"), f("dir-to-file/child", b"child\n"),
          d("home/app/work", 0o755, 1000, 1000)]
    if probe:
        e.append(dict(type="file", name="probe", path=probe, mode=0o755))
    return e


def busybox_layer2():
    """Deletions (a file, a directory), an opaque directory, hard links, a file whose parents the tar
    omits (`pt`), type changes."""
    return [
        dict(type="whiteout", name="etc/delete-me"),
        dict(type="whiteout", name="var/olddir"),
        d("opq"), dict(type="opaque", name="opq"), f("opq/new", b"new in layer 2\n"),
        d("data"), f("data/h1", b"hardlinked\n", 0o640, 1000, 1000),
        dict(type="link", name="data/h2", target="data/h1"),
        dict(type="link", name="data/h3", target="data/h1"),
        # a hard link to a lower layer's file (etc/motd has no other link)
        dict(type="link", name="etc/motd.link", target="etc/motd"),
        f("usr/share/keep/f", b"parent entries omitted\n"),
        dict(type="whiteout", name="replace-me"), d("replace-me"), f("replace-me/inside", b"now a dir\n"),
        f("dir-to-file", b"a directory in layer 1, a file in layer 2\n"),
    ]


def busybox_layer3():
    """Small changes: a new file, a changed directory mode, a file through the merged-/usr symlink
    (`lib/foo` without a `lib/` entry: `pt2`), a whiteout of one member of a hard-link group, a
    changed symlink, a file added to the opaque directory."""
    return [
        f("etc/hostname-img", b"layer3\n"),
        d("home/app", 0o750, 1000, 1000),
        f("lib/foo", b"through the lib symlink\n"),
        dict(type="whiteout", name="data/h3"),
        dict(type="symlink", name="usr/bin/env", target="/bin/busybox"),
        f("opq/layer3", b"layer 3\n"),
    ]


def build_busybox(out, ref="busybox", compression="gzip", busybox=BUSYBOX, probe=None, layout=None):
    lay = layout or ob.Layout(out)
    desc, facts = lay.add_image([busybox_base(busybox, probe), busybox_layer2(), busybox_layer3()], CONFIG,
                                compression=compression)
    lay.tag(desc, ref)
    if layout is None:
        lay.save()
    return facts


def build_shared(out, ref="shared", compression="gzip", busybox=BUSYBOX, probe=None, layout=None):
    """A second image whose base layer is the busybox image's (same diff_id and ChainID)."""
    lay = layout or ob.Layout(out)
    cfg = {k: v for k, v in CONFIG.items() if k not in ("Entrypoint", "User")}
    cfg["Cmd"] = ["/bin/cat", "/shared"]
    desc, facts = lay.add_image([busybox_base(busybox, probe), [f("shared", b"second image\n")]], cfg,
                                compression=compression)
    lay.tag(desc, ref)
    if layout is None:
        lay.save()
    return facts


def build_two(out, compression="gzip", busybox=BUSYBOX, probe=None):
    """One layout with two images: "busybox" and "shared"."""
    lay = ob.Layout(out)
    facts = {"busybox": build_busybox(out, "busybox", compression, busybox, probe, layout=lay),
             "shared": build_shared(out, "shared", compression, busybox, probe, layout=lay)}
    lay.save()
    return facts


def build_multi(out, ref="multi", compression="gzip", busybox=BUSYBOX, probe=None, flat=False):
    """A nested index: index.json -> index blob (ref REF) -> [attestation (unknown/unknown), amd64,
    arm64/v8, arm/v7].  The attestation comes first so that ignoring its platform picks it."""
    lay = ob.Layout(out)
    base = lay.add_layer(busybox_base(busybox, probe), compression)
    descs, all_facts = [], {}
    # an in-toto attestation manifest, as buildx writes them
    att_layer = lay.add_blob(b'{"_type":"https://in-toto.io/Statement/v0.1"}', "application/vnd.in-toto+json",
                             annotations={"in-toto.io/predicate-type": "https://spdx.dev/Document"})
    att_cfg = lay.add_json({"architecture": "unknown", "os": "unknown", "config": {},
                            "rootfs": {"type": "layers", "diff_ids": [att_layer["digest"]]}}, ob.MT_CONFIG)
    for arch, variant in (("amd64", None), ("arm64", "v8"), ("arm", "v7")):
        plat = "linux/" + arch + ("/" + variant if variant else "")
        desc, facts = lay.add_image([base, [f("arch", plat + "\n")]],
                                    dict(CONFIG, Env=CONFIG["Env"] + ["PLATFORM=" + plat]),
                                    arch=arch, variant=variant, compression=compression)
        descs.append(desc)
        all_facts[plat] = facts
    att = lay.add_json({"schemaVersion": 2, "mediaType": ob.MT_MANIFEST, "config": att_cfg, "layers": [att_layer]},
                       ob.MT_MANIFEST, platform={"architecture": "unknown", "os": "unknown"},
                       annotations={"vnd.docker.reference.type": "attestation-manifest",
                                    "vnd.docker.reference.digest": descs[0]["digest"]})
    # an entry of a media type husk does not know: ignored, not fatal (image-layout.md)
    odd = lay.add_blob(b"{}", "application/vnd.example.unknown+json",
                       platform={"architecture": "amd64", "os": "linux"})
    if flat:  # index.json itself lists the platforms, all under the one ref name
        for desc in [att, odd] + descs:
            lay.tag(desc, ref)
    else:
        idx = lay.add_index([att, odd] + descs)
        lay.tag(idx, ref)
        all_facts["index"] = idx["digest"]
    lay.save()
    return all_facts


def build_dir(root, out, ref, splits, compression="gzip"):
    lay = ob.Layout(out)
    l1 = ob.dir_entries(root, exclude=splits)
    l2 = ob.dir_entries(root, only=splits) if splits else None
    layers = [l1] + ([[e for e in l2 if e["name"] in splits or any(e["name"].startswith(s + "/") for s in splits)]]
                     if l2 else [])
    cfg = {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}
    desc, facts = lay.add_image(layers, cfg, compression=compression)
    lay.tag(desc, ref)
    lay.save()
    return facts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what")
    ap.add_argument("args", nargs="*")
    ap.add_argument("--compression", default="gzip", choices=["gzip", "zstd", "none"])
    ap.add_argument("--ref")
    ap.add_argument("--busybox", default=BUSYBOX)
    ap.add_argument("--probe")
    ap.add_argument("--victim")
    ap.add_argument("--split", action="append", default=[])
    a = ap.parse_intermixed_args()
    facts = None
    kw = dict(compression=a.compression, busybox=a.busybox, probe=a.probe)
    if a.what in ("busybox", "shared", "multi", "flat", "two"):
        (out,) = a.args
        fn = {"busybox": build_busybox, "shared": build_shared, "multi": build_multi, "flat": build_multi,
              "two": build_two}[a.what]
        if a.what == "flat":
            kw.update(ref="flat", flat=True)
        if a.ref and a.what != "two":
            kw["ref"] = a.ref
        facts = fn(out, **kw)
    elif a.what == "oci-archive":
        ob.write_oci_archive(*a.args)
    elif a.what == "docker-archive":
        layout, ref, out, tag = a.args
        ob.write_docker_archive(layout, ref, out, tag)
    elif a.what == "facts":
        facts = ob.read_layout_image(a.args[0], a.args[1] if len(a.args) > 1 else None)
    elif a.what == "dir":
        root, out = a.args
        facts = build_dir(root, out, a.ref or "image", a.split, a.compression)
    elif a.what in ("hostile", "hostile-list"):
        import hostile
        if a.what == "hostile-list":
            print("\n".join(sorted(hostile.CASES)))
            return
        case, out = a.args
        if not a.victim:
            ap.error("hostile needs --victim DIR")
        facts = hostile.build(case, out, victim=a.victim, busybox=a.busybox, probe=a.probe)
    else:
        ap.error("unknown image kind " + a.what)
    if facts is not None:
        json.dump(facts, sys.stdout, indent=1, sort_keys=True)
        print()


if __name__ == "__main__":
    main()
