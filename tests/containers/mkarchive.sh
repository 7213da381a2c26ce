#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkarchive.sh ROOTFS.tar OUT.tar: the test image (tests/containers/
# Makefile's root file system tarball, one layer) as a docker-archive
# tagged gdltest:latest, the format both `docker load` and `ctr images
# import` take.  Its command is a long sleep, so containerd's CRI uses it
# as the pod sandbox ("pause") image too; no network is needed.
set -eu
in=$1
out=$2
d=$out.d
rm -rf "$d"
mkdir -p "$d/layer"
cp "$in" "$d/layer/layer.tar"
diff=$(sha256sum <"$in" | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sleep","1000000"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}\n' \
	"$diff" >"$d/config.json"
cfg=$(sha256sum <"$d/config.json" | cut -d' ' -f1)
mv "$d/config.json" "$d/$cfg.json"
printf '[{"Config":"%s.json","RepoTags":["gdltest:latest"],"Layers":["layer/layer.tar"]}]\n' \
	"$cfg" >"$d/manifest.json"
tar -C "$d" -cf "$out.tmp" manifest.json "$cfg.json" layer
mv "$out.tmp" "$out"
rm -rf "$d"
