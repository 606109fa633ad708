#!/usr/bin/env bash
# Builds the Debian package of latchkey from a built binary, without debhelper: a staging tree,
# its control files, then `dpkg-deb --build --root-owner-group`. Prints the path of the package.
#   packaging/build-deb.sh BINARY OUTDIR     # make deb: build/latchkey build
# The version is what `BINARY --version` prints (CMakeLists.txt's project version), the
# architecture dpkg's, the dependencies what dpkg-shlibdeps finds the binary linked against.
# LATCHKEY_DEB_MAINTAINER sets the Maintainer field.
set -euo pipefail
umask 022
if [ $# -ne 2 ]; then
  echo "usage: $0 BINARY OUTDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
bin=$(realpath "$1")
mkdir -p "$2"
out=$(realpath "$2")
maintainer=${LATCHKEY_DEB_MAINTAINER:-latchkey maintainers <maintainers@latchkey.invalid>}

version=$("$bin" --version | awk '$1 == "latchkey" { print $2 }')
if ! [[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then
  echo "build-deb: $bin --version printed no version: '$version'" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)

stage=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/latchkey" \
  "$root/usr/share/man/man1" "$root/usr/share/doc/latchkey"

# The binary without symbols (as dh_strip does), 0755.
strip --remove-section=.comment --remove-section=.note --strip-unneeded -o "$root/usr/bin/latchkey" "$bin"
chmod 0755 "$root/usr/bin/latchkey"
install -m 0644 "$here/latchkey.service" "$root/lib/systemd/system/latchkey.service"
# The default configuration, generated from the settings table by the packaged binary itself.
"$root/usr/bin/latchkey" config example >"$root/etc/latchkey/latchkey.toml"
chmod 0644 "$root/etc/latchkey/latchkey.toml"
gzip -9n <"$here/latchkey.1" >"$root/usr/share/man/man1/latchkey.1.gz"
chmod 0644 "$root/usr/share/man/man1/latchkey.1.gz"
install -m 0644 "$here/copyright" "$top/README.md" "$top"/docs/*.md "$root/usr/share/doc/latchkey/"

# Depends: the packages of the shared libraries the binary needs, with the versions their
# symbols need (dpkg-shlibdeps wants a debian/control beside it, naming the binary package), and
# adduser for the postinst.
mkdir -p "$stage/debian"
printf 'Source: latchkey\n\nPackage: latchkey\nArchitecture: any\n' >"$stage/debian/control"
shlibs=$(cd "$stage" && dpkg-shlibdeps -O -e root/usr/bin/latchkey 2>"$stage/shlibdeps.err") || {
  cat "$stage/shlibdeps.err" >&2
  exit 1
}
depends=${shlibs#shlibs:Depends=}
if [ -z "$depends" ] || [ "$depends" = "$shlibs" ]; then
  echo "build-deb: dpkg-shlibdeps found no dependencies: $shlibs" >&2
  exit 1
fi

install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
echo /etc/latchkey/latchkey.toml >"$root/DEBIAN/conffiles"
(cd "$root" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: latchkey
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends, adduser
Section: net
Priority: optional
Description: OAuth 2.0 / OpenID Connect server for Salesforce-style connected apps
 latchkey is an OAuth 2.0 and OpenID Connect authorization server and resource
 server that speaks Salesforce's connected-app wire format at Salesforce's
 paths, so Salesforce clients work against it unchanged, and standard OAuth and
 OIDC clients work through discovery.
 .
 This package runs it as the systemd service latchkey.service (user latchkey,
 state in /var/lib/latchkey) configured by /etc/latchkey/latchkey.toml.
CONTROL

deb=$out/latchkey_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz -z6 --build "$root" "$deb" >/dev/null
echo "$deb"
