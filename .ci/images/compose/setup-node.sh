#!/bin/sh
# Run by build.sh on the node stand-in's root filesystem: the official image's user (node, uid 1000) and layout
# (/usr/local/bin/node, npm under /usr/local/lib/node_modules). NODE_BIN and NPM_DIR say where to copy them from.
set -eu
root=$1
install -m 0755 "$NODE_BIN" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
echo 'node:x:1000:' >> "$root/etc/group"
echo 'node:x:1000:1000::/home/node:/bin/sh' >> "$root/etc/passwd"
echo 'node:*:19000:0:99999:7:::' >> "$root/etc/shadow"
mkdir -p "$root/home/node" && chown 1000:1000 "$root/home/node"
# This machine's trust store (it may include a local CA that its network requires), for npm in builds; the
# official image uses node's own CA list, so NODE_EXTRA_CA_CERTS (set by build-compose.sh) points at this file.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
