# diffuser relay hop: receive one round of a distribute transfer, keep a
# copy, pass it on. Installed as $D/hop by diffuser for one transfer and
# removed with $D afterwards. Runs as "sh $D/hop ROUND" (diffuser, through
# its own SSH connection) or as the ForceCommand of the transfer's own sshd
# (another host of the transfer, SSH_ORIGINAL_COMMAND="ROUND").
#
# $D/env sets DIR (the destination's directory), DEST (the destination's
# name in it), PART (the partial file's name, beside the destination) and
# SSH (the ssh client command with the transfer's key and pinned host key).
# DEST and PART are written, read and truncated only relative to DIR,
# entered one component at a time (enter_dir), and through a descriptor
# checked to be the right file (open_part, open_dest): a user who may
# write DIR cannot make root write through a link put at their names.
# $D/plan.ROUND says what to do in that round:
#   line 1:  recv START   the stream on stdin begins at byte START of the file;
#                         PART is cut to START bytes (it holds at least that
#                         many) and the stream appended to it
#            send START   the stream is read from DEST (a complete copy),
#                         from byte START; nothing is written here
#   then:    ADDR PORT SKIP, one line per host to pass the stream on to,
#            without its first SKIP bytes (the child already has them)
# Only coreutils and the ssh client are used (openssl, when present, to hash). Every output keeps pace with
# the slowest one (pipes give backpressure); an output that dies (its host
# or its ssh) is dropped by tee -p and the others go on.
set -u
D=${0%/*}
. "$D/env"
# @FUNCTIONS@
if [ -n "${SSH_ORIGINAL_COMMAND-}" ]; then
	# shellcheck disable=SC2086 # split into words on purpose
	set -- $SSH_ORIGINAL_COMMAND
fi
round=${1-}
case $round in '' | *[!0-9]*)
	echo "hop: bad round '$round'" >&2
	exit 2
	;;
esac
plan=$D/plan.$round
if ! read -r role start <"$plan"; then
	echo "hop: no plan for round $round" >&2
	exit 2
fi
# The operator waits for this process group before it reads this round's result.
read -r _ _ _ _ pgid _ </proc/$$/stat && echo "$pgid" >"$D/pgid.$round"
enter_dir
case $role in
recv)
	umask 077
	if [ "$start" -eq 0 ]; then
		new_part
	fi
	open_part
	have=$(stat -L -c %s /proc/self/fd/3) || exit 3
	if [ "$have" -lt "$start" ]; then
		echo "hop: $DIR/$PART has $have bytes, the stream starts at $start" >&2
		exit 3
	fi
	if [ "$have" -gt "$start" ]; then
		truncate -s "$start" /proc/self/fd/3 || exit 3
	fi
	;;
send) open_dest ;;
esac
n=0
outs=
tail -n +2 -- "$plan" >"$D/children.$round"
while read -r addr port skip; do
	n=$((n + 1))
	f=$D/fifo.$round.$n
	rm -f -- "$f"
	mkfifo -m 600 -- "$f" || exit 3
	if [ "$skip" -gt 0 ]; then
		{ tail -c +$((skip + 1)) <"$f" | $SSH -p "$port" "root@$addr" "$round"; } 2>"$D/ssh.$round.$n.log" &
	else
		$SSH -p "$port" "root@$addr" "$round" <"$f" 2>"$D/ssh.$round.$n.log" &
	fi
	outs="$outs $f"
done <"$D/children.$round"
# shellcheck disable=SC2086 # $outs: fifo paths without blanks
case $role in
recv)
	if [ "$start" -eq 0 ]; then
		# The whole file passes here: hash it on the way in (openssl uses
		# the CPU's SHA instructions; coreutils' sha256sum is much slower).
		{
			tee -p -a -- /proc/self/fd/3 $outs
			echo $? >"$D/tee.$round"
		} | if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; else sha256sum; fi >"$D/sum.$round"
	else
		tee -p -a -- /proc/self/fd/3 $outs >/dev/null
		echo $? >"$D/tee.$round"
	fi
	;;
send)
	tail -c +$((start + 1)) <&4 | tee -p $outs >/dev/null
	echo $? >"$D/tee.$round"
	;;
*)
	echo "hop: bad role '$role'" >&2
	exit 2
	;;
esac
wait
exit "$(cat "$D/tee.$round")"
