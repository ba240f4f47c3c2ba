#!/bin/sh
# Builds the OCI images the agent tests run (nothing can be pulled on the test machines), in DIR:
#   DIR/tools      an image layout, tag 1.0: busybox (static, from Debian's busybox-static) as
#                  /bin/sh and friends, /etc/image-release, env GREETING, workdir /opt, a cmd
#   DIR/archived.tar  the same image as an OCI archive (a tar of the layout), tag latest
# Needs umoci and busybox-static (make deps installs both).
set -eu
DIR=$1
rm -rf "$DIR" && mkdir -p "$DIR" && cd "$DIR"
umoci init --layout tools
umoci new --image tools:base
umoci unpack --image tools:base bundle >/dev/null
mkdir -p bundle/rootfs/bin bundle/rootfs/etc bundle/rootfs/opt bundle/rootfs/usr
cp "$(command -v busybox)" bundle/rootfs/bin/busybox
for tool in sh cat id ls pwd echo touch sleep setsid head env ps unshare; do
  ln -s busybox "bundle/rootfs/bin/$tool"
done
echo "suanpan test image 1.0" > bundle/rootfs/etc/image-release
umoci repack --image tools:base bundle >/dev/null
umoci config --image tools:base --tag 1.0 \
  --config.env PATH=/bin --config.env GREETING=hello-from-image \
  --config.workingdir /opt \
  --config.cmd sh --config.cmd -c --config.cmd 'echo "default cmd: $GREETING in $(pwd)"'
umoci tag --image tools:1.0 latest
rm -rf bundle
mkdir archived && cp -r tools/. archived/
(cd archived && tar -cf ../archived.tar .)
rm -rf archived
