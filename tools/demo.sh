#!/usr/bin/env bash
# demo.sh - a small jalin federation on 127.0.0.1 (make demo / make demo-stop)
#
#   tools/demo.sh start   CA, certificates and configs for jabar (32),
#                         banten (36) and sulsel (73); start the three nodes;
#                         write sample records; show them replicate.
#   tools/demo.sh stop    stop the nodes (the data stays in demo/).
#   tools/demo.sh clean   stop and remove demo/.
#
# Everything lives under demo/ in the source tree (git ignores it). The
# nodes listen on 127.0.0.1:7421-7423 and their admin sockets are
# demo/NODE.sock, so `build/jalinctl -c demo/NODE.conf status` works.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
demo=$top/demo
bin=${JALIN_BUILD:-$top/build}
ca=$top/certs/jalin-ca
nodes=(jabar banten sulsel)
declare -A region=([jabar]=32 [banten]=36 [sulsel]=73)
declare -A port=([jabar]=7421 [banten]=7422 [sulsel]=7423)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ctl() { local n=$1; shift; "$bin/jalinctl" -c "$demo/$n.conf" "$@"; }

write_config() {
	local n=$1 p
	{
		printf '# jalin demo node %s (province %s)\n' "$n" "${region[$n]}"
		printf '[node]\nname = %s\nregion = %s\n' "$n" "${region[$n]}"
		printf 'data_dir = %s/%s\nlisten = 127.0.0.1:%s\n' \
		    "$demo" "$n" "${port[$n]}"
		printf 'admin_socket = %s/%s.sock\n\n' "$demo" "$n"
		printf '[tls]\nca = %s/ca/ca.pem\n' "$demo"
		printf 'cert = %s/ca/nodes/%s.pem\n' "$demo" "$n"
		printf 'key = %s/ca/nodes/%s.key\n' "$demo" "$n"
		printf 'crl = %s/ca/crl.pem\n' "$demo"
		printf 'roster = %s/ca/roster.pem\n' "$demo"
		for p in "${nodes[@]}"; do
			[ "$p" = "$n" ] && continue
			printf '\n[peer %s]\naddress = 127.0.0.1:%s\n' \
			    "$p" "${port[$p]}"
			printf 'collections = case, partnership, lks, resource, referral\n'
		done
	} >"$demo/$n.conf"
}

setup() {
	mkdir -p "$demo"
	if [ ! -f "$demo/ca/ca.pem" ]; then
		say "A federation CA and one certificate per node (certs/jalin-ca)"
		"$ca" "$demo/ca" init
		for n in "${nodes[@]}"; do "$ca" "$demo/ca" node "$n"; done
	fi
	# every node's encryption key (a demo made by an older jalin has
	# none yet), so each seals a case to its readers from the first write
	# (README: Security model)
	for n in "${nodes[@]}"; do
		[ -f "$demo/ca/nodes/$n.enc.key" ] ||
		    "$ca" "$demo/ca" enc "$n" >/dev/null
	done
	"$ca" "$demo/ca" roster >/dev/null 2>&1
	for n in "${nodes[@]}"; do write_config "$n"; done
	"$bin/jalind" -n -c "$demo/jabar.conf" >/dev/null
}

start_nodes() {
	say "Starting jalind for ${nodes[*]}"
	for n in "${nodes[@]}"; do
		if [ -f "$demo/$n.pid" ] && kill -0 "$(cat "$demo/$n.pid")" 2>/dev/null; then
			echo "$n is already running"
			continue
		fi
		"$bin/jalind" -f -c "$demo/$n.conf" >>"$demo/$n.log" 2>&1 &
		echo $! >"$demo/$n.pid"
		echo "$n: pid $!, log $demo/$n.log"
	done
	for n in "${nodes[@]}"; do
		for _ in $(seq 50); do
			ctl "$n" status >/dev/null 2>&1 && break
			sleep 0.1
		done
	done
}

# A uuid for unit references (controller, sentra, LKS ids).
uuid() { cat /proc/sys/kernel/random/uuid; }

write_records() {
	local sentra lks_mks dinsos_sulsel kemensos case_id ref_id
	sentra=$(uuid) lks_mks=$(uuid) dinsos_sulsel=$(uuid) kemensos=$(uuid)

	say "jabar writes a partnership (MoU) - shared with every node"
	ctl jabar put partnership <<EOF
{"agreement_type": "mou", "agreement_no": "MOU.02/REHSOS/XI/2026",
 "title": "Penanganan ODGJ terlantar dan korban pasung di Jawa Barat",
 "parties": [{"unit": "$kemensos", "role": "first"}, {"unit": "$lks_mks", "role": "second"}],
 "scope": "Penjangkauan, rujukan ke sentra, dan pendampingan keluarga",
 "clusters": ["disability"], "status": "active",
 "period_start": "2026-01-01", "period_end": "2028-12-31",
 "controller": "$kemensos", "legal_basis": "public_task"}
EOF

	say "banten and sulsel register LKS (organisation directory)"
	ctl banten put lks <<EOF
{"name": "Yayasan Harapan Sehat Jiwa Serang", "legal_form": "yayasan",
 "status": "active", "region_code": "36.73", "mode": "both",
 "clusters": ["disability"], "contact.phone": "0254-201201",
 "head.name": "Hj. Siti Rahmawati", "head.position": "Ketua",
 "controller": "$(uuid)", "legal_basis": "legitimate_interest"}
EOF
	ctl sulsel put lks <<EOF
{"name": "LKS Pelita Kasih Makassar", "legal_form": "perkumpulan",
 "status": "active", "region_code": "73.71", "mode": "outside",
 "clusters": ["disability", "elderly"], "contact.phone": "0411-853210",
 "head.name": "Andi Baso Tenri", "head.position": "Ketua",
 "controller": "$lks_mks", "legal_basis": "legitimate_interest"}
EOF

	say "sulsel records a pasung case (shared with jabar only)"
	case_id=$(ctl sulsel put case <<EOF
{"case_no": "SULSEL-2026-0147", "status": "intervention",
 "cluster": "disability", "approach": "residential",
 "region_code": "73.71.01.1002", "reported_at": 1795392000000,
 "report_source": "tksk", "full_name": "Daeng M.", "sex": "m",
 "disability_types": ["mental"], "disability_severity": "severe",
 "pasung.status": "released", "pasung.method": "wooden_stocks",
 "pasung.start_date": "2022-03-01", "pasung.start_precision": "month",
 "pasung.release_date": "2026-11-20", "pasung.released_to": "sentra",
 "pasung.conditions": ["malnutrition", "poor_sanitation"],
 "pasung.family_consent": "yes",
 "controller": "$dinsos_sulsel", "legal_basis": "vital_interest",
 "share_with": ["jabar"]}
EOF
)
	echo "case $case_id"
	ref_id=$(ctl sulsel put referral <<EOF
{"referral_no": "RJK/73/2026/0311", "case_id": "$case_id",
 "from_unit": "$dinsos_sulsel", "to_unit": "$sentra", "to_kind": "sentra",
 "reason": "Rehabilitasi sosial residensial setelah pelepasan pasung",
 "urgency": "urgent", "services_requested": ["therapy", "family_support"],
 "status": "sent", "controller": "$dinsos_sulsel",
 "legal_basis": "vital_interest", "share_with": ["jabar"]}
EOF
)
	echo "referral $ref_id"
	echo "$case_id" >"$demo/case.id"
	echo "$ref_id" >"$demo/referral.id"
}

wait_for() { # node collection id
	for _ in $(seq 100); do
		ctl "$1" get "$2" "$3" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

show() {
	local case_id ref_id
	case_id=$(cat "$demo/case.id") ref_id=$(cat "$demo/referral.id")
	wait_for jabar case "$case_id" || true
	wait_for jabar referral "$ref_id" || true
	say "jalinctl status on jabar"
	ctl jabar status
	say "The case arrived at jabar (jalinctl -c demo/jabar.conf get case $case_id)"
	ctl jabar get case "$case_id"
	say "The referral arrived at jabar too"
	ctl jabar get referral "$ref_id"
	say "banten was not in share_with: it never received the case"
	ctl banten get case "$case_id" || true
	say "Every node holds the same partnership and LKS records (digests)"
	for n in "${nodes[@]}"; do
		printf '%-7s ' "$n"
		ctl "$n" digest | grep -E '^(partnership|lks)' | tr '\n' ' '
		echo
	done
	cat <<EOF

The demo nodes keep running. Try:
  build/jalinctl -c demo/banten.conf status
  build/jalinctl -c demo/jabar.conf export
  build/jalinctl -c demo/sulsel.conf put lks < some.json
Logs: demo/NODE.log. Stop them with:  make demo-stop
EOF
}

stop_nodes() {
	local n pid
	for n in "${nodes[@]}"; do
		[ -f "$demo/$n.pid" ] || continue
		pid=$(cat "$demo/$n.pid")
		if kill "$pid" 2>/dev/null; then
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			echo "stopped $n"
		fi
		rm -f "$demo/$n.pid"
	done
}

case "${1:-start}" in
start)
	setup
	start_nodes
	if [ ! -f "$demo/case.id" ]; then write_records; fi
	show
	;;
stop) stop_nodes ;;
clean)
	stop_nodes
	rm -rf "$demo"
	;;
*)
	echo "usage: $0 start|stop|clean" >&2
	exit 2
	;;
esac
