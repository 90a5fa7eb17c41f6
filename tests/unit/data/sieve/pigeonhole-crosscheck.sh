#!/bin/sh
# Run the corpus cases through Dovecot Pigeonhole's sieve-test (Debian
# dovecot-sieve) and print its actions next to ours (the .out files), for a
# reviewer to compare. Not run by make check: sieve-test needs a non-root
# mail user and prints actions in its own words. Usage (as root):
#   tests/unit/data/sieve/pigeonhole-crosscheck.sh [case ...]
# The differences found and kept on purpose are listed in
# docs/sieve-language.md ("Differences from Pigeonhole").
set -e
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/sieve-xcheck.XXXXXX)
user=nobody
cat > "$work/dovecot.conf" <<CONF
mail_uid = $(id -u $user)
mail_gid = $(id -g $user)
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:$work/mail
base_dir = $work/run
log_path = /dev/stderr
plugin {
  sieve_extensions = +vacation-seconds +editheader +spamtest +spamtestplus +virustest +mboxmetadata +servermetadata
}
CONF
cp "$here"/*.sieve "$here"/*.eml "$work"/
chmod -R a+rwX "$work"
cd "$work"
cases="$*"
[ -n "$cases" ] || cases=$(ls *.sieve | sed 's/\.sieve$//')
for n in $cases; do
	eml=$n.eml; [ -f "$eml" ] || eml=default.eml
	from=sender@example.org; to=ann@example.com
	if [ -f "$here/$n.env" ]; then
		v=$(sed -n 's/^from=//p' "$here/$n.env"); [ -n "$v" ] && from=$v
		v=$(sed -n 's/^to=//p' "$here/$n.env"); [ -n "$v" ] && to=$v
	fi
	echo "=== $n"
	runuser -u $user -- sieve-test -c "$work/dovecot.conf" -f "$from" -r "$to" "$n.sieve" "$eml" 2>&1 |
		grep -E '^ \* |error' || true
	echo "--- cairn"
	grep -vE '^  ' "$here/$n.out" || true
done
rm -rf "$work"
