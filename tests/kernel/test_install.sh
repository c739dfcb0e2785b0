#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make install / uninstall into a DESTDIR: exactly the files listed here, with
# their modes; every path an installed file names (/usr/local/..., /etc/...)
# is installed; another PREFIX leaves no /usr/local behind; the settings file
# is kept when it exists or was changed; uninstall removes every file;
# docs/monitoring.md lists them.
set -u
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d /tmp/tsh-install.XXXXXX)
on_exit "rm -rf '$WORK'"
DEST=$WORK/dest

FILES="/etc/default/tcpstatehist 644
/usr/local/lib/systemd/system/tcpstatehist-textfile.service 644
/usr/local/lib/systemd/system/tcpstatehist-textfile.timer 644
/usr/local/lib/systemd/system/tcpstatehist.service 644
/usr/local/sbin/tcpstatehist 755
/usr/local/share/doc/tcpstatehist/README.md 644
/usr/local/share/doc/tcpstatehist/design.md 644
/usr/local/share/doc/tcpstatehist/monitoring.md 644
/usr/local/share/doc/tcpstatehist/output.md 644
/usr/local/share/doc/tcpstatehist/performance.md 644
/usr/local/share/man/man8/tcpstatehist.8 644
/usr/local/share/tcpstatehist/cron.d/tcpstatehist 644
/usr/local/share/tcpstatehist/default/tcpstatehist 644
/usr/local/share/tcpstatehist/prometheus/tcpstatehist.rules.yml 644"

# installed DIR: "path mode" of every file under DIR, sorted.
installed() { (cd "$1" && find . -type f -printf '/%P %m\n' | sort); }

# docs/monitoring.md's table of installed files names each one, or its
# directory.
sed -n 's/^| `\(\/[^`]*\)` *|.*/\1/p' "$TOP/docs/monitoring.md" >"$WORK/table"
unlisted=$(cut -d' ' -f1 <<<"$FILES" | while read -r f; do
	grep -qxF "$f" "$WORK/table" || grep -qxF "${f%/*}/" "$WORK/table" || echo "$f"
done)
expect_eq "docs/monitoring.md lists every installed file" "" "$unlisted"

make -s -C "$TOP" install DESTDIR="$DEST" >"$WORK/install.log" 2>&1
expect_eq "make install DESTDIR=... succeeds" 0 "$?"
expect_eq "installs exactly these files, with these modes" "$FILES" "$(installed "$DEST")"
check "the binary is the build's" cmp -s "$TOP/tcpstatehist" "$DEST/usr/local/sbin/tcpstatehist"
check "the installed binary runs" sh -c "'$DEST/usr/local/sbin/tcpstatehist' --version >/dev/null"
check "the settings file is the example" cmp -s "$DEST/etc/default/tcpstatehist" \
	"$DEST/usr/local/share/tcpstatehist/default/tcpstatehist"
check "the man page is found under MANPATH" \
	sh -c "MANPATH='$DEST/usr/local/share/man' man -w tcpstatehist |
		grep -qx '$DEST/usr/local/share/man/man8/tcpstatehist.8'"

# Every absolute path of ours that an installed text file names must exist
# (/etc/cron.d/tcpstatehist is where the administrator copies the example).
grep -rIhoE '(/usr/local|/etc/default)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' "$DEST" |
	sort -u >"$WORK/named"
check "installed files name paths of ours" grep -q '^/usr/local/sbin/tcpstatehist$' "$WORK/named"
missing=$(while read -r p; do
	[ -e "$DEST$p" ] || echo "$p"
done <"$WORK/named")
expect_eq "every /usr/local and /etc/default path they name is installed" "" "$missing"

make -s -C "$TOP" uninstall DESTDIR="$DEST" >"$WORK/uninstall.log" 2>&1
expect_eq "make uninstall succeeds" 0 "$?"
expect_eq "uninstall removes every file" "" "$(installed "$DEST")"
check "and the package's own directories" test ! -e "$DEST/usr/local/share/tcpstatehist" \
	-a ! -e "$DEST/usr/local/share/doc/tcpstatehist"

# The settings file belongs to the administrator once changed.
make -s -C "$TOP" install DESTDIR="$DEST" >/dev/null 2>&1
echo 'TSH_ATTACH_OPTIONS="-L 80"' >>"$DEST/etc/default/tcpstatehist"
cp "$DEST/etc/default/tcpstatehist" "$WORK/changed"
out=$(make -s -C "$TOP" install DESTDIR="$DEST" 2>&1)
check "install keeps an existing settings file" \
	cmp -s "$WORK/changed" "$DEST/etc/default/tcpstatehist"
check "and says so" grep -q "kept $DEST/etc/default/tcpstatehist" <<<"$out"
out=$(make -s -C "$TOP" uninstall DESTDIR="$DEST" 2>&1)
expect_eq "uninstall keeps a changed settings file, only that" "/etc/default/tcpstatehist 644" \
	"$(installed "$DEST")"
check "and says so" grep -q "kept $DEST/etc/default/tcpstatehist (changed" <<<"$out"

# Another PREFIX and SYSCONFDIR: the files name them, never /usr/local or /etc.
make -s -C "$TOP" install DESTDIR="$WORK/d2" PREFIX=/usr SYSCONFDIR=/etc/tsh >/dev/null 2>&1
expect_eq "PREFIX=/usr installs the binary in /usr/sbin" "" \
	"$(cd "$WORK/d2" && find . -type f |
		grep -vE '^\./(usr/(sbin|lib/systemd/system|share)|etc/tsh/default)/')"
expect_eq "PREFIX=/usr: no installed file names a path in /usr/local or /etc/default" "" \
	"$(grep -rlE '/usr/local/|/etc/default/' "$WORK/d2")"
check "PREFIX=/usr: the unit runs /usr/sbin/tcpstatehist" grep -q \
	'^ExecStart=/usr/sbin/tcpstatehist attach' "$WORK/d2/usr/lib/systemd/system/tcpstatehist.service"
check "SYSCONFDIR: the unit reads /etc/tsh/default/tcpstatehist" grep -qx \
	'EnvironmentFile=-/etc/tsh/default/tcpstatehist' \
	"$WORK/d2/usr/lib/systemd/system/tcpstatehist-textfile.service"
make -s -C "$TOP" uninstall DESTDIR="$WORK/d2" PREFIX=/usr SYSCONFDIR=/etc/tsh >/dev/null 2>&1
expect_eq "PREFIX=/usr: uninstall removes every file" "" "$(installed "$WORK/d2")"

# INSTALL_BIN: the static binary, for a fleet.
make -s -C "$TOP" install DESTDIR="$WORK/d3" INSTALL_BIN=.output/static/tcpstatehist \
	>/dev/null 2>&1
check "INSTALL_BIN=.output/static/tcpstatehist installs the static binary" \
	sh -c "! readelf -lW '$WORK/d3/usr/local/sbin/tcpstatehist' | grep -q INTERP"

finish
