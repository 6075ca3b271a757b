/*
 * schema.c - the five collections as data, and the checks built on them.
 *
 * Every field of DOMAIN.md "Record schema" is one line in one of the tables
 * below, sorted by tag. Nested blocks are flattened into dotted names so
 * that per-field LWW merges concurrent edits of different sub-fields; lists
 * of items (consent, services, parties ...) stay one value each, with
 * ST_OBJECT items whose sub-fields are listed next to the collection.
 *
 * schema_coerce() is the single gate between what a client typed and what
 * is stored: it reads the value with its own bounded reader (it trusts no
 * count or length it has not checked against the bytes left), validates it
 * and writes the canonical msgpack with msgpack-c's packer (smallest
 * encodings, map keys sorted by their encoded bytes), so that equal values
 * are equal bytes on every node. Error messages name the collection, the
 * field, the list index or map key, and the rule. Values of S and S! fields
 * (and anything below them) are never echoed: these records describe
 * vulnerable people and error messages end up in logs.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "limits.h"
#include "record.h"
#include "schema.h"
#include "uuid.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Sub-fields of one ST_OBJECT (duplicate keys are found with a bitmask). */
#define OBJ_FIELDS_MAX 64

/* ---- enumerations ------------------------------------------------------ */

static const char *const e_legal_basis[] = {"consent", "contract",
    "legal_obligation", "vital_interest", "public_task", "legitimate_interest",
    NULL};
static const char *const e_cluster[] = {"child", "disability", "elderly",
    "napza", "social_deviance_trafficking", "disaster_emergency", "other",
    NULL};
static const char *const e_atensi[] = {"living_needs", "social_care",
    "family_support", "therapy", "vocational", "social_assistance",
    "accessibility", NULL};
static const char *const e_precision[] = {
    "day", "month", "year", "unknown", NULL};
static const char *const e_funding_source[] = {
    "apbn", "apbd", "lks", "csr", "donor", NULL};

/* case */
static const char *const e_case_status[] = {"reported", "outreach", "intake",
    "assessment", "planning", "intervention", "reintegration", "terminated",
    "follow_up", "closed", NULL};
static const char *const e_approach[] = {
    "family", "community", "residential", NULL};
static const char *const e_report_source[] = {"family", "community", "rt_rw",
    "village_head", "tksk", "puskesmas", "police", "call_171", "command_center",
    "media", "self", "other", NULL};
static const char *const e_sex[] = {"m", "f", NULL};
static const char *const e_marital[] = {
    "single", "married", "divorced", "widowed", NULL};
static const char *const e_residence[] = {
    "household", "institution", "homeless", NULL};
static const char *const e_jkn[] = {"pbi", "non_pbi", "none", "unknown", NULL};
static const char *const e_disability[] = {
    "physical", "intellectual", "mental", "sensory", NULL};
static const char *const e_severity[] = {"mild", "moderate", "severe", NULL};
/* Not listed in DOMAIN.md: chosen here (see guardian.relation). */
static const char *const e_relation[] = {"parent", "spouse", "child", "sibling",
    "grandparent", "other_relative", "legal_guardian", "other", NULL};
static const char *const e_consent_by[] = {"subject", "guardian", "both", NULL};
static const char *const e_consent_scope[] = {
    "services", "referral", "disclosure_named_org", "photo", NULL};
static const char *const e_consent_method[] = {"written", "recorded", NULL};
static const char *const e_risk[] = {"low", "medium", "high", "critical", NULL};
static const char *const e_case_funding[] = {
    "apbn", "apbd", "lks", "csr", "other", NULL};
static const char *const e_pasung_status[] = {
    "restrained", "released", "re_restrained", "confined", NULL};
static const char *const e_pasung_method[] = {
    "chain", "wooden_stocks", "rope", "locked_room", "other", NULL};
static const char *const e_pasung_setting[] = {
    "house", "shed", "hut", "healing_center", "institution", "other", NULL};
/* DOMAIN.md names the teams in prose; lks and other added here. */
static const char *const e_release_team[] = {"sentra", "trc", "tksk",
    "puskesmas", "dinsos", "police", "lks", "other", NULL};
static const char *const e_released_to[] = {
    "rsj", "rsu", "puskesmas", "sentra", "family", "lks", NULL};
static const char *const e_conditions[] = {
    "no_clean_water", "poor_sanitation", "malnutrition", "injury", NULL};
static const char *const e_family_consent[] = {"yes", "no", "partial", NULL};
static const char *const e_termination[] = {
    "goal_met", "referred", "refused", "died", "moved", "lost_contact", NULL};
static const char *const e_attachment_kind[] = {"ktp", "kk", "kis",
    "medical_letter", "cover_letter", "handover", "photo", "other", NULL};

/* referral */
static const char *const e_to_kind[] = {"sentra", "lks", "dinsos", "rsj", "rsu",
    "puskesmas", "police", "other_ministry", NULL};
static const char *const e_urgency[] = {"emergency", "urgent", "routine", NULL};
static const char *const e_services_requested[] = {"living_needs",
    "social_care", "family_support", "therapy", "vocational",
    "social_assistance", "accessibility", "medical", "legal", "shelter", NULL};
static const char *const e_referral_status[] = {"draft", "sent", "received",
    "accepted", "rejected", "in_service", "completed", "returned", "cancelled",
    NULL};

/* partnership */
static const char *const e_agreement[] = {
    "mou", "pks", "sk_penetapan", "assignment_letter", NULL};
static const char *const e_party_role[] = {"first", "second", "third", NULL};
static const char *const e_partnership_status[] = {
    "draft", "signed", "active", "suspended", "expired", "terminated", NULL};
static const char *const e_funding_mode[] = {
    "bantuan_pemerintah", "bansos", "self_funded", NULL};
static const char *const e_frequency[] = {
    "monthly", "quarterly", "semester", "annual", NULL};
static const char *const e_ds_roles[] = {
    "joint_controllers", "controller_processor", NULL};

/* lks */
static const char *const e_legal_form[] = {
    "yayasan", "perkumpulan", "unincorporated", "foreign_lks", NULL};
static const char *const e_grade[] = {"A", "B", "C", "none", NULL};
static const char *const e_lks_mode[] = {
    "in_institution", "outside", "both", NULL};
static const char *const e_lks_status[] = {
    "active", "inactive", "suspended", "revoked", NULL};

/* resource */
static const char *const e_resource_kind[] = {"bed", "staff", "therapy_slot",
    "vocational_slot", "transport", "funds", "goods", "facility", NULL};
static const char *const e_share_scope[] = {
    "partners_only", "federation", NULL};

const char *const schema_deletion_reasons[] = {"erasure_request",
    "retention_expired", "unlawful", "duplicate", "error", NULL};

/* ---- field constructors ------------------------------------------------ */

#define F_(t, n, ty, c, fl, d)                                            \
	.tag = (t), .name = (n), .type = (ty), .cls = (c), .flags = (fl), \
	.doc = (d)
#define F_STR(t, n, mx, c, fl, d)                       \
	{                                               \
		F_(t, n, ST_STR, c, fl, d), .max = (mx) \
	}
#define F_INT(t, n, lo, hi, c, fl, d)                                    \
	{                                                                \
		F_(t, n, ST_INT, c, fl, d), .min_i = (lo), .max_i = (hi) \
	}
#define F_ENUM(t, n, e, c, fl, d)                         \
	{                                                 \
		F_(t, n, ST_ENUM, c, fl, d), .enums = (e) \
	}
#define F_LIST(t, n, mx, it, c, fl, d)                                  \
	{                                                               \
		F_(t, n, ST_LIST, c, fl, d), .max = (mx), .item = &(it) \
	}
#define F_MAP(t, n, mx, keys, it, c, fl, d)                               \
	{                                                                 \
		F_(t, n, ST_MAP, c, fl, d), .max = (mx), .enums = (keys), \
		                            .item = &(it)                 \
	}
/* bool, date, ts, code, money, uuid, hash: no limits beyond the type */
#define F_SIMPLE(t, n, ty, c, fl, d)   \
	{                              \
		F_(t, n, ty, c, fl, d) \
	}
#define F_BOOL(t, n, c, fl, d)  F_SIMPLE(t, n, ST_BOOL, c, fl, d)
#define F_DATE(t, n, c, fl, d)  F_SIMPLE(t, n, ST_DATE, c, fl, d)
#define F_TS(t, n, c, fl, d)    F_SIMPLE(t, n, ST_TS, c, fl, d)
#define F_CODE(t, n, c, fl, d)  F_SIMPLE(t, n, ST_CODE, c, fl, d)
#define F_MONEY(t, n, c, fl, d) F_SIMPLE(t, n, ST_MONEY, c, fl, d)
#define F_UUID(t, n, c, fl, d)  F_SIMPLE(t, n, ST_UUID, c, fl, d)
#define F_HASH(t, n, c, fl, d)  F_SIMPLE(t, n, ST_HASH, c, fl, d)

/* List items and map values: fields without a name or tag. */
#define IT(ty, c, d)                                 \
	{                                            \
		.type = (ty), .cls = (c), .doc = (d) \
	}
#define IT_STR(mx, c, d)                                            \
	{                                                           \
		.type = ST_STR, .cls = (c), .max = (mx), .doc = (d) \
	}
#define IT_INT(lo, hi, c, d)                                              \
	{                                                                 \
		.type = ST_INT, .cls = (c), .min_i = (lo), .max_i = (hi), \
		.doc = (d)                                                \
	}
#define IT_ENUM(e, c, d)                                              \
	{                                                             \
		.type = ST_ENUM, .cls = (c), .enums = (e), .doc = (d) \
	}
#define IT_OBJ(o, c, d)                                    \
	{                                                  \
		.type = ST_OBJECT, .cls = (c), .obj = (o), \
		.nobj = ARRAY_LEN(o), .doc = (d)           \
	}

/* ---- list items and map values (anonymous fields) ---------------------- */

/* share_with items; schema_coerce also checks the node name pattern */
static const struct schema_field it_node =
    IT_STR(JALIN_NAME_MAX, CLS_N, "nama simpul: node name = certificate CN");
static const struct schema_field it_uuid = IT(ST_UUID, CLS_N, "id unit/record");
static const struct schema_field it_hash =
    IT(ST_HASH, CLS_N, "SHA-256 of a document");
static const struct schema_field it_code =
    IT(ST_CODE, CLS_N, "kode wilayah (Kemendagri)");
static const struct schema_field it_fieldname =
    IT_STR(JALIN_FIELD_NAME_MAX, CLS_N, "nama field (schema field name)");
static const struct schema_field it_alias =
    IT_STR(256, CLS_N, "nama lain lembaga");
static const struct schema_field it_need =
    IT_STR(256, CLS_S, "kebutuhan (one assessed need)");
static const struct schema_field it_score =
    IT_INT(1, 5, CLS_S, "skor asesmen fisik 1..5");
static const struct schema_field it_cluster =
    IT_ENUM(e_cluster, CLS_N, "klaster");
static const struct schema_field it_atensi =
    IT_ENUM(e_atensi, CLS_N, "komponen layanan ATENSI");
static const struct schema_field it_disability =
    IT_ENUM(e_disability, CLS_S, "ragam disabilitas");
static const struct schema_field it_release_team =
    IT_ENUM(e_release_team, CLS_S, "tim pelepasan pasung");
static const struct schema_field it_conditions =
    IT_ENUM(e_conditions, CLS_S, "kondisi hidup saat dipasung");
static const struct schema_field it_services_req = IT_ENUM(e_services_requested,
    CLS_S, "layanan yang diminta (ATENSI, medis, hukum, shelter)");

/* ---- envelope (every collection; tags fixed in schema.h) --------------- */

#define ENVELOPE(ctl_fl, lb_fl)                                                 \
	F_STR(TAG_ORIGIN_NODE, "origin_node", JALIN_NAME_MAX, CLS_N,            \
	    SF_SYSTEM, "simpul asal: node that created the record (its CN)"),   \
	    F_UUID(TAG_CONTROLLER, "controller", CLS_N, ctl_fl,                 \
	        "pengendali data pribadi: unit that is the UU PDP controller"), \
	    F_ENUM(TAG_LEGAL_BASIS, "legal_basis", e_legal_basis, CLS_N,        \
	        lb_fl, "dasar pemrosesan: legal basis (UU PDP Pasal 20)"),      \
	    F_LIST(TAG_SHARE_WITH, "share_with", 16, it_node, CLS_N, 0,         \
	        "simpul yang berhak menerima: nodes a SCOPED record goes to"),  \
	    F_DATE(TAG_RETENTION_UNTIL, "retention_until", CLS_N, 0,            \
	        "batas masa retensi (jadwal retensi arsip)"),                   \
	    F_TS(TAG_CREATED_AT, "created_at", CLS_N, SF_SYSTEM,                \
	        "waktu dibuat: creation time, ms UTC"),                         \
	    F_STR(TAG_CREATED_BY, "created_by", 64, CLS_U, 0,                   \
	        "dibuat oleh: petugas (user id, not a name)"),                  \
	    F_STR(TAG_UPDATED_BY, "updated_by", 64, CLS_U, 0,                   \
	        "diubah oleh: petugas (user id, not a name)")

/* ---- case -------------------------------------------------------------- */

static const struct schema_field case_consent_obj[] = {
    F_ENUM(1, "by", e_consent_by, CLS_S, 0, "pemberi persetujuan"),
    F_ENUM(2, "scope", e_consent_scope, CLS_S, 0, "lingkup persetujuan"),
    F_ENUM(3, "method", e_consent_method, CLS_S, 0,
        "persetujuan tertulis/terekam"),
    F_DATE(4, "date", CLS_S, 0, "tanggal persetujuan"),
    F_HASH(5, "evidence", CLS_S, 0, "bukti persetujuan (document hash)"),
    F_TS(6, "withdrawn_at", CLS_S, 0, "waktu penarikan persetujuan"),
};
static const struct schema_field case_service_obj[] = {
    F_ENUM(1, "component", e_atensi, CLS_S, 0, "komponen ATENSI"),
    F_DATE(2, "date", CLS_S, 0, "tanggal layanan"),
    F_UUID(3, "provider", CLS_S, 0, "unit pemberi layanan"),
    F_INT(4, "qty", 0, 1000000, CLS_S, 0, "jumlah (quantity)"),
    F_MONEY(5, "value", CLS_S, 0, "nilai dalam rupiah"),
    F_ENUM(6, "funding", e_case_funding, CLS_S, 0, "sumber dana"),
};
static const struct schema_field case_monitoring_obj[] = {
    F_DATE(1, "date", CLS_S, 0, "tanggal kunjungan pemantauan"),
    F_STR(2, "by", 64, CLS_S, 0, "petugas (user id)"),
    F_STR(3, "note", 1024, CLS_S, 0, "temuan & kemajuan (findings)"),
};
static const struct schema_field case_attachment_obj[] = {
    F_ENUM(1, "kind", e_attachment_kind, CLS_SX, 0, "jenis dokumen"),
    F_HASH(2, "hash", CLS_SX, 0, "SHA-256 isi dokumen (content address)"),
    F_INT(3, "size", 0, INT64_MAX, CLS_SX, 0, "ukuran dalam byte"),
};
static const struct schema_field it_consent =
    IT_OBJ(case_consent_obj, CLS_S, "satu persetujuan");
static const struct schema_field it_service =
    IT_OBJ(case_service_obj, CLS_S, "satu layanan");
static const struct schema_field it_monitoring =
    IT_OBJ(case_monitoring_obj, CLS_S, "satu kunjungan monev");
static const struct schema_field it_attachment =
    IT_OBJ(case_attachment_obj, CLS_SX, "satu lampiran");

static const struct schema_field case_fields[] = {
    ENVELOPE(SF_REQUIRED, SF_REQUIRED),
    F_LIST(TAG_UNSHARED_FROM, "unshared_from", JALIN_UNSHARED_MAX, it_node,
        CLS_N, SF_SYSTEM,
        "ditarik dari: nodes taken out of share_with, told to erase"),
    F_SIMPLE(TAG_KEYS, "keys", ST_KEYS, CLS_N, SF_SYSTEM,
        "kunci data: the record's data keys, wrapped to each node that may "
        "read its S! fields"),
    F_STR(16, "case_no", 32, CLS_N, 0,
        "nomor registrasi kasus (unit prefix + seq)"),
    F_ENUM(17, "status", e_case_status, CLS_S, SF_REQUIRED,
        "tahapan kasus (case stage)"),
    F_ENUM(18, "cluster", e_cluster, CLS_S, SF_REQUIRED, "klaster PPKS"),
    F_STR(19, "ppks_type", 64, CLS_S, 0, "jenis PPKS"),
    F_ENUM(20, "approach", e_approach, CLS_S, 0,
        "berbasis keluarga/komunitas/residensial"),
    F_CODE(21, "region_code", CLS_U, 0,
        "kode wilayah domisili (desa/kelurahan level)"),
    F_UUID(
        22, "handling_unit", CLS_N, 0, "unit penanganan (sentra/dinsos/LKS)"),
    F_STR(23, "case_worker", 64, CLS_U, 0,
        "pekerja sosial / pendamping (user id)"),
    F_TS(24, "reported_at", CLS_S, 0, "waktu laporan"),
    F_ENUM(25, "report_source", e_report_source, CLS_S, 0, "sumber laporan"),
    F_STR(26, "reporter_contact", 128, CLS_SX, 0,
        "pelapor: name and contact, confidential"),
    F_STR(27, "full_name", 128, CLS_U, 0, "nama lengkap penerima manfaat"),
    F_HASH(28, "nik_token", CLS_S, 0,
        "HMAC(NIK) with the federation key, for dedup"),
    F_STR(29, "nik", 16, CLS_SX, 0, "NIK (nomor induk kependudukan)"),
    F_STR(30, "kk_no", 16, CLS_SX, 0, "nomor Kartu Keluarga"),
    F_ENUM(31, "sex", e_sex, CLS_U, 0, "jenis kelamin"),
    F_DATE(32, "birth_date", CLS_U, 0, "tanggal lahir"),
    F_ENUM(33, "birth_date_precision", e_precision, CLS_U, 0,
        "ketelitian tanggal lahir (day/month/year/unknown)"),
    F_BOOL(34, "is_child", CLS_S, 0, "anak (<18): UU PDP Pasal 25 regime"),
    F_ENUM(35, "marital_status", e_marital, CLS_U, 0, "status perkawinan"),
    F_ENUM(36, "residence_type", e_residence, CLS_U, 0,
        "tempat tinggal: rumah tangga/panti/tuna wisma"),
    F_STR(37, "address", 256, CLS_SX, 0, "alamat"),
    F_STR(38, "geo", 32, CLS_SX, 0, "koordinat (only if needed for outreach)"),
    F_STR(39, "phone", 20, CLS_SX, 0, "nomor HP"),
    F_STR(40, "dtsen_id", 32, CLS_S, 0, "id DTKS/DTSEN"),
    F_ENUM(41, "jkn_status", e_jkn, CLS_S, 0, "kepesertaan JKN/KIS"),
    F_LIST(42, "disability_types", 4, it_disability, CLS_S, 0,
        "ragam disabilitas (UU 8/2016, form P1)"),
    F_ENUM(43, "disability_severity", e_severity, CLS_S, 0,
        "derajat disabilitas (1-3: ringan/sedang/berat)"),
    F_STR(44, "guardian.name", 128, CLS_U, 0, "nama wali/keluarga"),
    F_ENUM(45, "guardian.relation", e_relation, CLS_S, 0,
        "hubungan wali: parent, spouse, child, sibling, grandparent, "
        "other_relative, legal_guardian, other"),
    F_STR(46, "guardian.contact", 64, CLS_SX, 0, "kontak wali"),
    F_LIST(47, "consent", 16, it_consent, CLS_S, 0,
        "persetujuan (UU PDP Pasal 22-26)"),
    F_STR(48, "communication_aid", 64, CLS_S, 0,
        "cara komunikasi khusus (Pasal 26(2))"),
    F_STR(49, "coercive_basis", 256, CLS_S, 0,
        "dasar tindakan koersif (PP 52/2019 Ps. 9)"),
    F_DATE(50, "assessment.date", CLS_S, 0, "tanggal asesmen"),
    F_STR(51, "assessment.assessor", 64, CLS_S, 0, "asesor (user id)"),
    F_MAP(52, "assessment.scores", 64, NULL, it_score, CLS_S, 0,
        "asesmen fisik: aspect (pangan, sandang, papan ...) -> 1..5"),
    F_ENUM(53, "assessment.risk", e_risk, CLS_S, 0, "tingkat risiko"),
    F_LIST(54, "assessment.needs", 32, it_need, CLS_S, 0, "daftar kebutuhan"),
    F_STR(
        55, "assessment.resources", 1024, CLS_S, 0, "kekuatan & sistem sumber"),
    F_STR(56, "diagnosis", 256, CLS_SX, 0, "diagnosis (from RSJ/puskesmas)"),
    F_STR(57, "medication", 256, CLS_SX, 0, "obat & kepatuhan"),
    F_STR(58, "plan.goals", 2048, CLS_S, 0, "tujuan rencana intervensi"),
    F_LIST(59, "plan.components", 7, it_atensi, CLS_S, 0,
        "komponen ATENSI yang direncanakan"),
    F_DATE(60, "plan.conference_date", CLS_S, 0, "tanggal temu bahas kasus"),
    F_LIST(61, "services", 64, it_service, CLS_S, 0,
        "layanan yang diberikan (intervensi)"),
    F_LIST(62, "monitoring", 48, it_monitoring, CLS_S, 0,
        "pemantauan & evaluasi (monev)"),
    F_ENUM(63, "pasung.status", e_pasung_status, CLS_S, 0,
        "status pemasungan (dipasung/dilepas/dipasung ulang/pengurungan)"),
    F_ENUM(64, "pasung.method", e_pasung_method, CLS_S, 0, "cara pemasungan"),
    F_ENUM(
        65, "pasung.setting", e_pasung_setting, CLS_S, 0, "tempat pemasungan"),
    F_DATE(66, "pasung.start_date", CLS_S, 0, "perkiraan awal pemasungan"),
    F_ENUM(67, "pasung.start_precision", e_precision, CLS_S, 0,
        "ketelitian awal pemasungan (day/month/year/unknown)"),
    F_INT(68, "pasung.prior_episodes", 0, 1000, CLS_S, 0,
        "jumlah pemasungan sebelumnya"),
    F_DATE(69, "pasung.discovered_at", CLS_S, 0, "tanggal ditemukan"),
    F_DATE(70, "pasung.release_date", CLS_S, 0, "tanggal pelepasan pasung"),
    F_LIST(71, "pasung.release_team", 8, it_release_team, CLS_S, 0,
        "tim pelepasan: sentra, trc, tksk, puskesmas, dinsos, police, lks, "
        "other"),
    F_ENUM(72, "pasung.released_to", e_released_to, CLS_S, 0,
        "dirujuk ke setelah pelepasan"),
    F_LIST(73, "pasung.conditions", 4, it_conditions, CLS_S, 0,
        "kondisi hidup (air, sanitasi, gizi, luka)"),
    F_ENUM(74, "pasung.family_consent", e_family_consent, CLS_S, 0,
        "persetujuan keluarga"),
    F_DATE(75, "pasung.followup_next", CLS_S, 0,
        "kunjungan bimbingan lanjut berikutnya"),
    F_DATE(76, "pasung.re_pasung_at", CLS_S, 0, "tanggal pemasungan ulang"),
    F_DATE(77, "terminated_at", CLS_S, 0, "tanggal terminasi"),
    F_ENUM(
        78, "termination_reason", e_termination, CLS_S, 0, "alasan terminasi"),
    F_STR(79, "outcome", 1024, CLS_S, 0, "keberfungsian sosial (outcome)"),
    F_STR(80, "notes", 8192, CLS_SX, 0,
        "catatan kasus (never in search indexes)"),
    F_LIST(81, "attachments", 32, it_attachment, CLS_SX, 0,
        "lampiran: content stays at the origin, fetched on demand"),
};

/* ---- referral ---------------------------------------------------------- */

static const struct schema_field it_status_at =
    IT(ST_TS, CLS_S, "waktu status rujukan (ms UTC)");

static const struct schema_field referral_fields[] = {
    ENVELOPE(0, SF_REQUIRED),
    F_LIST(TAG_UNSHARED_FROM, "unshared_from", JALIN_UNSHARED_MAX, it_node,
        CLS_N, SF_SYSTEM,
        "ditarik dari: nodes taken out of share_with, told to erase"),
    F_SIMPLE(TAG_KEYS, "keys", ST_KEYS, CLS_N, SF_SYSTEM,
        "kunci data: the record's data keys, wrapped to each node that may "
        "read its S! fields"),
    F_STR(16, "referral_no", 32, CLS_N, 0, "nomor surat rujukan"),
    F_UUID(17, "case_id", CLS_N, SF_REQUIRED, "kasus yang dirujuk"),
    F_UUID(18, "from_unit", CLS_N, SF_REQUIRED, "unit perujuk"),
    F_UUID(19, "to_unit", CLS_N, SF_REQUIRED, "unit penerima rujukan"),
    F_ENUM(
        20, "to_kind", e_to_kind, CLS_S, SF_REQUIRED, "jenis penerima rujukan"),
    F_STR(21, "reason", 1024, CLS_S, 0, "alasan rujukan"),
    F_ENUM(22, "urgency", e_urgency, CLS_S, SF_REQUIRED, "tingkat kedaruratan"),
    F_LIST(23, "services_requested", 10, it_services_req, CLS_S, 0,
        "layanan yang diminta"),
    F_HASH(24, "consent_ref", CLS_S, 0,
        "bukti persetujuan; required unless vital_interest/public_task"),
    F_LIST(25, "shared_fields", 128, it_fieldname, CLS_N, 0,
        "dataset minimum yang dibagikan (case field names)"),
    F_ENUM(
        26, "status", e_referral_status, CLS_S, SF_REQUIRED, "status rujukan"),
    F_MAP(27, "status_at", 9, e_referral_status, it_status_at, CLS_S, 0,
        "waktu per status rujukan"),
    F_STR(28, "response_note", 1024, CLS_S, 0, "tanggapan penerima rujukan"),
    F_HASH(29, "handover_doc", CLS_S, 0, "berita acara serah terima (hash)"),
    F_STR(30, "outcome", 1024, CLS_S, 0, "hasil rujukan"),
    F_TS(31, "feedback_at", CLS_S, 0, "waktu umpan balik"),
};

/* ---- partnership ------------------------------------------------------- */

static const struct schema_field partnership_party_obj[] = {
    F_UUID(1, "unit", CLS_N, 0, "unit pihak"),
    F_ENUM(2, "role", e_party_role, CLS_N, 0, "PIHAK PERTAMA/KEDUA/KETIGA"),
};
static const struct schema_field partnership_signatory_obj[] = {
    F_STR(1, "name", 128, CLS_U, 0, "nama penandatangan"),
    F_STR(2, "position", 128, CLS_N, 0, "jabatan penandatangan"),
};
static const struct schema_field partnership_amendment_obj[] = {
    F_STR(1, "no", 64, CLS_N, 0, "nomor adendum"),
    F_DATE(2, "date", CLS_N, 0, "tanggal adendum"),
    F_HASH(3, "hash", CLS_N, 0, "hash dokumen adendum"),
};
static const struct schema_field it_party =
    IT_OBJ(partnership_party_obj, CLS_N, "satu pihak");
static const struct schema_field it_signatory =
    IT_OBJ(partnership_signatory_obj, CLS_U, "satu penandatangan");
static const struct schema_field it_amendment =
    IT_OBJ(partnership_amendment_obj, CLS_N, "satu adendum");

static const struct schema_field partnership_fields[] = {
    ENVELOPE(0, 0),
    F_ENUM(16, "agreement_type", e_agreement, CLS_N, SF_REQUIRED,
        "Nota Kesepahaman / Perjanjian Kerja Sama / SK"),
    F_STR(17, "agreement_no", 64, CLS_N, 0, "nomor perjanjian"),
    F_UUID(18, "parent_id", CLS_N, 0, "induk MoU"),
    F_STR(19, "title", 256, CLS_N, SF_REQUIRED, "judul perjanjian"),
    F_LIST(20, "parties", 16, it_party, CLS_N, 0, "para pihak"),
    F_LIST(21, "signatories", 16, it_signatory, CLS_U, 0,
        "penandatangan (public officials)"),
    F_STR(22, "scope", 2048, CLS_N, 0, "ruang lingkup"),
    F_LIST(23, "clusters", 7, it_cluster, CLS_N, 0, "klaster"),
    F_LIST(24, "components", 7, it_atensi, CLS_N, 0, "layanan ATENSI"),
    F_LIST(25, "coverage", 128, it_code, CLS_N, 0, "wilayah kerja"),
    F_DATE(26, "period_start", CLS_N, 0, "jangka waktu: mulai"),
    F_DATE(27, "period_end", CLS_N, 0, "jangka waktu: selesai"),
    F_ENUM(28, "status", e_partnership_status, CLS_N, SF_REQUIRED,
        "status kemitraan"),
    F_INT(29, "target_beneficiaries", 0, 100000000, CLS_N, 0,
        "target penerima manfaat"),
    F_MONEY(30, "funding.value", CLS_N, 0, "nilai pendanaan (rupiah)"),
    F_ENUM(31, "funding.source", e_funding_source, CLS_N, 0,
        "sumber dana (APBN/APBD ...)"),
    F_ENUM(32, "funding.mode", e_funding_mode, CLS_N, 0,
        "banpem / bansos / swadana"),
    F_LIST(33, "resources", 64, it_uuid, CLS_N, 0,
        "sumber daya yang dibagi (resource ids)"),
    F_ENUM(34, "reporting.frequency", e_frequency, CLS_N, 0,
        "frekuensi pelaporan"),
    F_DATE(
        35, "reporting.next_due", CLS_N, 0, "laporan berikutnya jatuh tempo"),
    F_ENUM(36, "data_sharing.roles", e_ds_roles, CLS_N, 0,
        "peran: pengendali bersama / pengendali-prosesor"),
    F_STR(37, "data_sharing.purpose", 512, CLS_N, 0,
        "tujuan pemrosesan data pribadi"),
    F_LIST(38, "data_sharing.allowed_fields", 128, it_fieldname, CLS_N, 0,
        "field yang boleh dibagikan"),
    F_STR(39, "data_sharing.retention", 128, CLS_N, 0, "masa retensi data"),
    F_LIST(40, "documents", 32, it_hash, CLS_N, 0, "dokumen perjanjian (hash)"),
    F_LIST(41, "amendments", 32, it_amendment, CLS_N, 0, "adendum"),
    F_DATE(42, "termination.date", CLS_N, 0, "tanggal pengakhiran"),
    F_STR(43, "termination.reason", 512, CLS_N, 0, "alasan pengakhiran"),
};

/* ---- lks --------------------------------------------------------------- */

static const struct schema_field lks_fields[] = {
    ENVELOPE(0, 0),
    F_STR(16, "name", 256, CLS_N, SF_REQUIRED, "nama lembaga"),
    F_LIST(17, "aliases", 16, it_alias, CLS_N, 0, "nama lain / singkatan"),
    F_ENUM(18, "legal_form", e_legal_form, CLS_N, SF_REQUIRED,
        "bentuk: yayasan/perkumpulan/tidak berbadan hukum/LKS asing"),
    F_STR(19, "ahu_no", 64, CLS_N, 0,
        "SK pengesahan badan hukum (Kemenkumham AHU)"),
    F_STR(20, "deed.no", 64, CLS_N, 0, "nomor akta pendirian"),
    F_DATE(21, "deed.date", CLS_N, 0, "tanggal akta pendirian"),
    F_STR(22, "deed.notary", 128, CLS_N, 0, "notaris"),
    F_STR(23, "npwp", 20, CLS_N, 0, "NPWP organisasi"),
    F_STR(24, "registration.no", 64, CLS_N, 0, "nomor tanda daftar LKS"),
    F_UUID(25, "registration.issuer", CLS_N, 0, "penerbit tanda daftar"),
    F_DATE(26, "registration.date", CLS_N, 0, "tanggal tanda daftar"),
    F_DATE(27, "registration.valid_until", CLS_N, 0,
        "tanda daftar berlaku sampai"),
    F_ENUM(28, "accreditation.grade", e_grade, CLS_N, 0,
        "akreditasi BALKS (A 5y, B 3y, C 2y)"),
    F_STR(29, "accreditation.cert_no", 64, CLS_N, 0,
        "nomor sertifikat akreditasi"),
    F_DATE(30, "accreditation.date", CLS_N, 0, "tanggal akreditasi"),
    F_DATE(
        31, "accreditation.valid_until", CLS_N, 0, "akreditasi berlaku sampai"),
    F_LIST(32, "clusters", 7, it_cluster, CLS_N, 0, "klaster layanan"),
    F_LIST(33, "services", 7, it_atensi, CLS_N, 0, "layanan ATENSI"),
    F_ENUM(34, "mode", e_lks_mode, CLS_N, 0, "dalam/luar panti"),
    F_STR(35, "address", 256, CLS_N, 0, "alamat lembaga"),
    F_CODE(36, "region_code", CLS_N, 0, "kode wilayah lembaga"),
    F_STR(37, "geo", 32, CLS_N, 0, "koordinat lembaga"),
    F_STR(38, "contact.phone", 20, CLS_N, 0, "telepon lembaga"),
    F_STR(39, "contact.email", 128, CLS_N, 0, "email lembaga"),
    F_STR(40, "head.name", 128, CLS_U, 0, "nama ketua/pimpinan"),
    F_STR(41, "head.position", 64, CLS_U, 0, "jabatan pimpinan"),
    F_INT(42, "staff.total", 0, 1000000, CLS_N, 0, "jumlah SDM"),
    F_INT(43, "staff.certified_social_workers", 0, 1000000, CLS_N, 0,
        "pekerja sosial bersertifikat"),
    F_INT(44, "staff.psychologists", 0, 1000000, CLS_N, 0, "psikolog"),
    F_INT(45, "staff.nurses", 0, 1000000, CLS_N, 0, "perawat"),
    F_STR(46, "siks_id", 32, CLS_N, 0, "id LKS di SIKS-NG"),
    F_ENUM(47, "status", e_lks_status, CLS_N, SF_REQUIRED, "status lembaga"),
    F_UUID(48, "registering_office", CLS_N, 0, "Dinas Sosial pendaftar"),
};

/* ---- resource ---------------------------------------------------------- */

static const struct schema_field resource_fields[] = {
    ENVELOPE(0, 0),
    F_UUID(16, "owner_unit", CLS_N, SF_REQUIRED,
        "unit pemilik (the only writer of capacity_*)"),
    F_ENUM(17, "kind", e_resource_kind, CLS_N, SF_REQUIRED,
        "jenis: tempat tidur, SDM, slot terapi/pelatihan, kendaraan, dana ..."),
    F_STR(
        18, "subtype", 64, CLS_N, 0, "rincian, e.g. \"PDM laki-laki dewasa\""),
    F_LIST(19, "clusters", 7, it_cluster, CLS_N, 0, "klaster"),
    F_INT(20, "capacity_total", 0, 1000000000, CLS_N, SF_REQUIRED,
        "daya tampung total"),
    F_INT(21, "capacity_available", 0, 1000000000, CLS_N, 0,
        "daya tampung tersedia"),
    F_STR(22, "unit", 16, CLS_N, 0, "satuan (orang, jam, rupiah)"),
    F_DATE(23, "period_start", CLS_N, 0, "periode: mulai"),
    F_DATE(24, "period_end", CLS_N, 0, "periode: selesai"),
    F_ENUM(25, "share_scope", e_share_scope, CLS_N, 0,
        "siapa boleh meminta (mitra saja / federasi)"),
    F_ENUM(26, "funding_source", e_funding_source, CLS_N, 0, "sumber dana"),
    F_MONEY(27, "cost_per_unit", CLS_N, 0, "biaya per satuan (rupiah)"),
    F_TS(28, "verified_at", CLS_N, 0, "waktu verifikasi"),
    F_UUID(29, "contact_unit", CLS_N, 0, "unit kontak"),
};

/* ---- name index ----------------------------------------------------------
 *
 * Positions in each field table sorted by name (bytewise), for the binary
 * search in schema_field_by_name(). Derived from the tables once, at first
 * use, rather than kept by hand beside them.
 */

#define FIELDS_MAX 255 /* positions fit a uint8_t */
_Static_assert(ARRAY_LEN(case_fields) <= FIELDS_MAX &&
        ARRAY_LEN(referral_fields) <= FIELDS_MAX &&
        ARRAY_LEN(partnership_fields) <= FIELDS_MAX &&
        ARRAY_LEN(lks_fields) <= FIELDS_MAX &&
        ARRAY_LEN(resource_fields) <= FIELDS_MAX,
    "a field table too long for its uint8_t name index");

/* ---- collections ------------------------------------------------------- */

/* Indexed by id - 1. */
static const struct schema_coll colls[COLL_COUNT] = {
    {COLL_CASE, "case", 2, SCOPE_SCOPED, case_fields, ARRAY_LEN(case_fields),
        "kasus / penerima manfaat: one person's case, S by default"},
    {COLL_PARTNERSHIP, "partnership", 1, SCOPE_ALL, partnership_fields,
        ARRAY_LEN(partnership_fields), "kemitraan: MoU / PKS between units"},
    {COLL_LKS, "lks", 1, SCOPE_ALL, lks_fields, ARRAY_LEN(lks_fields),
        "Lembaga Kesejahteraan Sosial: organisation directory"},
    {COLL_RESOURCE, "resource", 1, SCOPE_ALL, resource_fields,
        ARRAY_LEN(resource_fields), "sumber daya: capacity a unit offers"},
    {COLL_REFERRAL, "referral", 2, SCOPE_SCOPED, referral_fields,
        ARRAY_LEN(referral_fields), "rujukan: a case referred between units"},
};

static uint8_t by_name[COLL_COUNT][FIELDS_MAX];
static pthread_once_t by_name_once = PTHREAD_ONCE_INIT;

/* Insertion sort: a few dozen fields, once. */
static void
by_name_build(void)
{
	for (size_t c = 0; c < COLL_COUNT; c++) {
		const struct schema_field *f = colls[c].fields;
		uint8_t *idx = by_name[c];
		for (size_t i = 0; i < colls[c].nfields; i++) {
			size_t j = i;
			for (;
			     j > 0 && strcmp(f[idx[j - 1]].name, f[i].name) > 0;
			     j--)
				idx[j] = idx[j - 1];
			idx[j] = (uint8_t)i;
		}
	}
}

const struct schema_coll *
schema_coll_by_name(const char *name, size_t len)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < COLL_COUNT; i++)
		if (strlen(colls[i].name) == len &&
		    memcmp(colls[i].name, name, len) == 0)
			return &colls[i];
	return NULL;
}

const struct schema_coll *
schema_coll_by_id(unsigned id)
{
	if (id < COLL_MIN || id > COLL_MAX)
		return NULL;
	return &colls[id - COLL_MIN];
}

/* Bytewise order of (name, len) against a NUL-terminated field name. */
static int
name_cmp(const char *name, size_t len, const char *fname)
{
	size_t flen = strlen(fname);
	int d = memcmp(name, fname, len < flen ? len : flen);

	if (d != 0)
		return d;
	return len < flen ? -1 : len > flen;
}

const struct schema_field *
schema_field_by_name(const struct schema_coll *c, const char *name, size_t len)
{
	const uint8_t *idx;
	size_t lo = 0, hi, mid, i;
	int d;

	if (c == NULL || name == NULL)
		return NULL;
	if (schema_coll_by_id(c->id) != c) {
		/* not one of our tables: no index, search linearly */
		for (i = 0; i < c->nfields; i++)
			if (name_cmp(name, len, c->fields[i].name) == 0)
				return &c->fields[i];
		return NULL;
	}
	pthread_once(&by_name_once, by_name_build);
	idx = by_name[c->id - COLL_MIN];
	hi = c->nfields;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		d = name_cmp(name, len, c->fields[idx[mid]].name);
		if (d == 0)
			return &c->fields[idx[mid]];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct schema_field *
schema_field_by_tag(const struct schema_coll *c, unsigned tag)
{
	size_t lo = 0, hi, mid;

	if (c == NULL)
		return NULL;
	hi = c->nfields;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->fields[mid].tag == tag)
			return &c->fields[mid];
		if (c->fields[mid].tag > tag)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- bounded msgpack reader ---------------------------------------------
 *
 * schema_coerce() may get anything a client sent, so it does not rely on
 * msgpack-c's unpacker (which allocates from declared counts): every length
 * is checked against the bytes left, every count against the least bytes
 * its elements need, before it is used.
 */

enum {
	V_NIL = 1,
	V_BOOL,
	V_UINT, /* any integer >= 0, whatever its encoding */
	V_INT,  /* integer < 0 */
	V_FLOAT,
	V_STR,
	V_BIN,
	V_ARRAY,
	V_MAP,
	V_EXT,
};

struct mv {
	int t;
	bool b;
	bool f32;  /* V_FLOAT was a float 32 */
	int8_t et; /* V_EXT type */
	uint64_t u;
	int64_t i;
	double d;
	const uint8_t *p; /* V_STR, V_BIN, V_EXT data */
	uint32_t n;       /* data length, or V_ARRAY / V_MAP count */
};

struct rd {
	const uint8_t *p;
	const uint8_t *end;
};

static int
rd_take(struct rd *r, size_t n, const uint8_t **out)
{
	if ((size_t)(r->end - r->p) < n)
		return -1;
	*out = r->p;
	r->p += n;
	return 0;
}

/* n (1, 2, 4 or 8) bytes big-endian */
static int
rd_be(struct rd *r, size_t n, uint64_t *v)
{
	const uint8_t *s;
	size_t i;

	if (rd_take(r, n, &s) != 0)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++)
		*v = *v << 8 | s[i];
	return 0;
}

static int
rd_bytes(struct rd *r, int t, uint64_t n, struct mv *v)
{
	v->t = t;
	v->n = (uint32_t)n;
	return rd_take(r, n, &v->p);
}

/* An element takes at least one byte, a map entry two. */
static int
rd_count(struct rd *r, int t, uint64_t n, struct mv *v)
{
	size_t left = (size_t)(r->end - r->p);

	v->t = t;
	v->n = (uint32_t)n;
	if (t == V_MAP ? n > left / 2 : n > left)
		return -1;
	return 0;
}

static int
rd_number(struct rd *r, uint8_t b, struct mv *v)
{
	uint64_t u;
	size_t w;

	if (b == 0xca || b == 0xcb) {
		float f;
		w = b == 0xca ? 4 : 8;
		if (rd_be(r, w, &u) != 0)
			return -1;
		v->t = V_FLOAT;
		v->f32 = w == 4;
		if (w == 4) {
			uint32_t u32 = (uint32_t)u;
			memcpy(&f, &u32, sizeof(f));
			v->d = f;
		} else
			memcpy(&v->d, &u, sizeof(v->d));
		return 0;
	}
	w = (size_t)1 << (b <= 0xcf ? b - 0xcc : b - 0xd0);
	if (rd_be(r, w, &u) != 0)
		return -1;
	v->t = V_UINT;
	v->u = u;
	if (b >= 0xd0 && u >> (8 * w - 1) != 0) {
		/* negative: sign-extend the w-byte two's complement value */
		v->t = V_INT;
		v->i =
		    w == 8 ? (int64_t)u : (int64_t)(u - ((uint64_t)1 << 8 * w));
	}
	return 0;
}

static int
rd_ext(struct rd *r, uint64_t n, struct mv *v)
{
	const uint8_t *tb;

	if (rd_take(r, 1, &tb) != 0)
		return -1;
	v->et = (int8_t)*tb;
	return rd_bytes(r, V_EXT, n, v);
}

/* First bytes 0xc0 .. 0xdf */
static int
rd_head_c(struct rd *r, uint8_t b, struct mv *v)
{
	uint64_t n;

	if (b == 0xc0) {
		v->t = V_NIL;
		return 0;
	}
	if (b == 0xc2 || b == 0xc3) {
		v->t = V_BOOL;
		v->b = b == 0xc3;
		return 0;
	}
	if (b >= 0xca && b <= 0xd3)
		return rd_number(r, b, v);
	if (b >= 0xd4 && b <= 0xd8)
		return rd_ext(r, (uint64_t)1 << (b - 0xd4), v);
	if (b >= 0xc4 && b <= 0xc6)
		return rd_be(r, (size_t)1 << (b - 0xc4), &n) ||
		    rd_bytes(r, V_BIN, n, v);
	if (b >= 0xc7 && b <= 0xc9)
		return rd_be(r, (size_t)1 << (b - 0xc7), &n) || rd_ext(r, n, v);
	if (b >= 0xd9 && b <= 0xdb)
		return rd_be(r, (size_t)1 << (b - 0xd9), &n) ||
		    rd_bytes(r, V_STR, n, v);
	if (b == 0xdc || b == 0xdd)
		return rd_be(r, b == 0xdc ? 2 : 4, &n) ||
		    rd_count(r, V_ARRAY, n, v);
	if (b == 0xde || b == 0xdf)
		return rd_be(r, b == 0xde ? 2 : 4, &n) ||
		    rd_count(r, V_MAP, n, v);
	return -1; /* 0xc1 is never used */
}

/* Read the head of the next object: a scalar whole, a container's count. */
static int
rd_head(struct rd *r, struct mv *v)
{
	const uint8_t *b;

	memset(v, 0, sizeof(*v));
	if (rd_take(r, 1, &b) != 0)
		return -1;
	if (*b <= 0x7f) {
		v->t = V_UINT;
		v->u = *b;
		return 0;
	}
	if (*b >= 0xe0) {
		v->t = V_INT;
		v->i = (int8_t)*b;
		return 0;
	}
	if (*b <= 0x8f)
		return rd_count(r, V_MAP, *b & 0x0f, v);
	if (*b <= 0x9f)
		return rd_count(r, V_ARRAY, *b & 0x0f, v);
	if (*b <= 0xbf)
		return rd_bytes(r, V_STR, *b & 0x1f, v);
	return rd_head_c(r, *b, v);
}

/* Skip one whole object. Iterative: no recursion on client nesting. */
static int
rd_skip(struct rd *r)
{
	uint64_t todo = 1;
	struct mv v;

	while (todo > 0) {
		if (rd_head(r, &v) != 0)
			return -1;
		todo--;
		if (v.t == V_ARRAY)
			todo += v.n;
		else if (v.t == V_MAP)
			todo += 2 * (uint64_t)v.n;
	}
	return 0;
}

/* ---- value rules ------------------------------------------------------- */

/* Offset of the first byte that is not valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid), or n. */
static size_t
utf8_bad(const uint8_t *s, size_t n)
{
	size_t i = 0, k, len;
	uint8_t c, lo, hi;

	while (i < n) {
		c = s[i];
		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4;
		else
			return i;
		if (c == 0xe0)
			lo = 0xa0; /* overlong below U+0800 */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates U+D800..U+DFFF */
		else if (c == 0xf0)
			lo = 0x90; /* overlong below U+10000 */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (k = 2; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += len;
	}
	return n;
}

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static unsigned
digits(const uint8_t *s, size_t n)
{
	unsigned v = 0;

	while (n-- > 0)
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

/* "YYYY-MM-DD", a real date of the Gregorian calendar, year 0001..9999. */
static bool
date_ok(const uint8_t *s, size_t n)
{
	static const uint8_t mdays[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, m, d, max;
	size_t i;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < n; i++)
		if (i != 4 && i != 7 && !is_digit(s[i]))
			return false;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y == 0 || m < 1 || m > 12 || d < 1)
		return false;
	max = mdays[m - 1];
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		max = 29;
	return d <= max;
}

/*
 * Kemendagri region code (DOMAIN.md): PP, PP.KK, PP.KK.CC, PP.KK.CC.DDDD.
 * kab 01-69, kota 71-99; desa codes start with 2, kelurahan codes with 1.
 * Province and kecamatan 00 do not exist either. NULL if valid, else the
 * rule that is broken.
 */
static const char *
code_problem(const uint8_t *s, size_t n)
{
	size_t i;
	unsigned kk;

	if (n != 2 && n != 5 && n != 8 && n != 13)
		return "(PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD digits)";
	for (i = 0; i < n; i++)
		if (i == 2 || i == 5 || i == 8 ? s[i] != '.' : !is_digit(s[i]))
			return "(PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD digits)";
	if (digits(s, 2) == 0)
		return ": province part 00 does not exist";
	if (n == 2)
		return NULL;
	kk = digits(s + 3, 2);
	if (kk == 0 || kk == 70)
		return ": kab/kota part must be 01-69 (kabupaten) or 71-99 (kota)";
	if (n >= 8 && digits(s + 6, 2) == 0)
		return ": kecamatan part 00 does not exist";
	if (n == 13 && s[9] != '1' && s[9] != '2')
		return ": desa/kelurahan part must start with 2 (desa) or 1 "
		       "(kelurahan)";
	return NULL;
}

/* 2n hex characters (either case) into n bytes (uuid.h's hex_decode). */
static bool
hex_ok(const uint8_t *s, size_t n, uint8_t *out)
{
	return hex_decode((const char *)s, 2 * n, out, n) == 0;
}

/* "8-4-4-4-12" hex digits, either case. */
static bool
uuid_text_ok(const uint8_t *s, size_t n, uint8_t out[16])
{
	static const uint8_t groups[5] = {4, 2, 2, 2, 6}; /* bytes per group */
	size_t g, o = 0;

	if (n != 36)
		return false;
	for (g = 0; g < 5; g++) {
		if (g > 0 && *s++ != '-')
			return false;
		if (!hex_ok(s, groups[g], out + o))
			return false;
		s += 2 * groups[g];
		o += groups[g];
	}
	return true;
}

/* Node names are certificate CNs: [a-z0-9][a-z0-9_-]* */
static bool
node_name_ok(const uint8_t *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		bool alnum = (s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i]);
		if (!alnum && (i == 0 || (s[i] != '_' && s[i] != '-')))
			return false;
	}
	return true;
}

static bool
is_node_name(const struct schema_field *f)
{
	return f == &it_node ||
	    (f->tag == TAG_ORIGIN_NODE && f->type == ST_STR &&
	        f->name != NULL && strcmp(f->name, "origin_node") == 0);
}

static int
enum_find(const char *const *e, const uint8_t *s, size_t n)
{
	int i;

	for (i = 0; e[i] != NULL; i++)
		if (strlen(e[i]) == n && memcmp(e[i], s, n) == 0)
			return i;
	return -1;
}

/* "a, b, c" into out; cut with "..." when it does not fit. */
static void
enum_list(const char *const *e, char *out, size_t size)
{
	size_t used = 0;
	int k;

	out[0] = '\0';
	for (; *e != NULL; e++) {
		k = snprintf(
		    out + used, size - used, "%s%s", used ? ", " : "", *e);
		if (k < 0 || (size_t)k >= size - used) {
			memcpy(out + size - 4, "...", 4);
			return;
		}
		used += (size_t)k;
	}
}

/* ---- schema_coerce ----------------------------------------------------- */

/*
 * Where in the value we are, for error messages ("case.consent[2].date").
 * Kept as descriptors and rendered only when a message is written: the
 * success path formats nothing.
 */
enum seg_kind {
	SEG_FIELD,
	SEG_INDEX,
	SEG_MEMBER,
	SEG_KEY,
	SEG_QKEY
};

struct seg {
	uint8_t kind;
	const char *s;  /* SEG_FIELD: collection; else member/key text */
	const char *s2; /* SEG_FIELD: field name */
	uint32_t n;     /* length of s (keys) */
	uint32_t i;     /* SEG_INDEX */
};

#define SEGS_MAX (JALIN_MP_DEPTH_MAX + 4)

struct cx {
	struct jalin_err *err;
	msgpack_packer pk; /* into a private buffer: output only on success */
	bool secret;       /* inside an S or S! field: never echo values */
	unsigned nseg;
	struct seg seg[SEGS_MAX];
	char path[JALIN_ERRMSG_MAX]; /* rendered on demand by path() */
};

typedef int coerce_fn(
    struct cx *, const struct schema_field *, struct rd *, const struct mv *);

static int co_value(struct cx *x, const struct schema_field *f, struct rd *r);

static const char *const got_names[] = {
    [V_NIL] = "nil",
    [V_BOOL] = "a boolean",
    [V_UINT] = "an integer",
    [V_INT] = "an integer",
    [V_FLOAT] = "a float",
    [V_STR] = "a string",
    [V_BIN] = "binary data",
    [V_ARRAY] = "an array",
    [V_MAP] = "a map",
    [V_EXT] = "an extension value",
};

static const char *const want_names[] = {
    [ST_STR] = "a string",
    [ST_INT] = "an integer",
    [ST_BOOL] = "a boolean",
    [ST_DATE] = "a date string",
    [ST_TS] = "an integer",
    [ST_ENUM] = "a string",
    [ST_CODE] = "a string",
    [ST_MONEY] = "an integer",
    [ST_UUID] = "a UUID",
    [ST_HASH] = "a hash",
    [ST_LIST] = "an array",
    [ST_OBJECT] = "a map",
    [ST_MAP] = "a map",
};

static unsigned
path_push(struct cx *x, struct seg s)
{
	unsigned old = x->nseg;

	if (x->nseg < SEGS_MAX)
		x->seg[x->nseg++] = s;
	return old;
}

static void
path_pop(struct cx *x, unsigned old)
{
	x->nseg = old;
}

static void
seg_render(const struct seg *s, char *out, size_t n)
{
	switch (s->kind) {
	case SEG_FIELD:
		snprintf(out, n, "%s.%s", s->s, s->s2 ? s->s2 : "?");
		break;
	case SEG_INDEX:
		snprintf(out, n, "[%" PRIu32 "]", s->i);
		break;
	case SEG_MEMBER:
		snprintf(out, n, ".%s", s->s);
		break;
	case SEG_KEY:
		snprintf(out, n, "[%.*s]", (int)s->n, s->s);
		break;
	default:
		snprintf(out, n, "['%.*s']", (int)s->n, s->s);
	}
}

/* The path of the value being read, rendered into x->path. */
static const char *
path(struct cx *x)
{
	size_t len = 0;

	x->path[0] = '\0';
	for (unsigned i = 0; i < x->nseg && len < sizeof(x->path) - 1; i++) {
		seg_render(&x->seg[i], x->path + len, sizeof(x->path) - len);
		len += strlen(x->path + len);
	}
	return x->path;
}

static int fail(struct cx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "path: what is wrong", JALIN_ESCHEMA */
static int
fail(struct cx *x, const char *fmt, ...)
{
	char m[JALIN_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	return jalin_err_set(x->err, JALIN_ESCHEMA, "%s: %s", path(x), m);
}

static int
malformed(struct cx *x)
{
	return jalin_err_set(x->err, JALIN_EPROTO,
	    "%s: value is not well-formed msgpack", path(x));
}

static int
mismatch(struct cx *x, const struct schema_field *f, const struct mv *v)
{
	return fail(
	    x, "expected %s, got %s", want_names[f->type], got_names[v->t]);
}

static bool
echo_ok(const struct cx *x, const uint8_t *s, size_t n)
{
	size_t i;

	if (x->secret || n > JALIN_ECHO_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '\'')
			return false;
	return true;
}

/* The subject of a message: 'value' when it may be shown, else "value". */
static const char *
subj(const struct cx *x, const uint8_t *s, size_t n,
    char out[JALIN_ECHO_MAX + 3])
{
	if (!echo_ok(x, s, n))
		return "value";
	snprintf(out, JALIN_ECHO_MAX + 3, "'%.*s'", (int)n, (const char *)s);
	return out;
}

static void
pk_str(struct cx *x, const uint8_t *s, size_t n)
{
	msgpack_pack_str(&x->pk, n);
	msgpack_pack_str_body(&x->pk, s, n);
}

static int
co_str(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	char q[JALIN_ECHO_MAX + 3];
	const uint8_t *nul;
	size_t bad;

	(void)r;
	if (v->t != V_STR)
		return mismatch(x, f, v);
	if (v->n > f->max)
		return fail(x,
		    "%" PRIu32 " bytes exceeds the limit of %" PRIu32, v->n,
		    f->max);
	if ((bad = utf8_bad(v->p, v->n)) < v->n)
		return fail(x, "value is not valid UTF-8 (at byte %zu)", bad);
	/* C consumers of the stored text (JSON, logs) stop at a NUL. */
	if ((nul = memchr(v->p, '\0', v->n)) != NULL)
		return fail(x, "value contains a NUL byte (at byte %zu)",
		    (size_t)(nul - v->p));
	if (is_node_name(f) && !node_name_ok(v->p, v->n))
		return fail(x, "%s is not a node name ([a-z0-9][a-z0-9_-]*)",
		    subj(x, v->p, v->n, q));
	pk_str(x, v->p, v->n);
	return 0;
}

static int
co_int(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	int64_t lo = 0, hi = INT64_MAX;
	char num[24];
	bool in;

	(void)r;
	if (v->t != V_UINT && v->t != V_INT)
		return mismatch(x, f, v);
	if (f->type == ST_INT) {
		lo = f->min_i;
		hi = f->max_i;
	}
	if (v->t == V_UINT)
		in = hi >= 0 && v->u <= (uint64_t)hi &&
		    (lo <= 0 || v->u >= (uint64_t)lo);
	else
		in = v->i >= lo && v->i <= hi;
	if (in) {
		if (v->t == V_UINT)
			msgpack_pack_uint64(&x->pk, v->u);
		else
			msgpack_pack_int64(&x->pk, v->i);
		return 0;
	}
	if (x->secret)
		snprintf(num, sizeof(num), "value");
	else if (v->t == V_UINT)
		snprintf(num, sizeof(num), "%" PRIu64, v->u);
	else
		snprintf(num, sizeof(num), "%" PRId64, v->i);
	if (f->type != ST_INT && v->t == V_INT)
		return fail(x, "%s is negative", num);
	return fail(x, "%s is out of range %" PRId64 "..%" PRId64, num, lo, hi);
}

static int
co_bool(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	(void)r;
	if (v->t != V_BOOL)
		return mismatch(x, f, v);
	if (v->b)
		msgpack_pack_true(&x->pk);
	else
		msgpack_pack_false(&x->pk);
	return 0;
}

static int
co_date(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	char q[JALIN_ECHO_MAX + 3];

	(void)r;
	if (v->t != V_STR)
		return mismatch(x, f, v);
	if (!date_ok(v->p, v->n))
		return fail(x, "%s is not a valid date (YYYY-MM-DD)",
		    subj(x, v->p, v->n, q));
	pk_str(x, v->p, v->n);
	return 0;
}

static int
co_enum(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	char q[JALIN_ECHO_MAX + 3], list[JALIN_ERRMSG_MAX];

	(void)r;
	if (v->t != V_STR)
		return mismatch(x, f, v);
	if (enum_find(f->enums, v->p, v->n) < 0) {
		enum_list(f->enums, list, sizeof(list));
		return fail(
		    x, "%s is not one of %s", subj(x, v->p, v->n, q), list);
	}
	pk_str(x, v->p, v->n);
	return 0;
}

static int
co_code(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	char q[JALIN_ECHO_MAX + 3];
	const char *why;

	(void)r;
	if (v->t != V_STR)
		return mismatch(x, f, v);
	if ((why = code_problem(v->p, v->n)) != NULL)
		return fail(x, "%s is not a region code%s%s",
		    subj(x, v->p, v->n, q), why[0] == ':' ? "" : " ", why);
	pk_str(x, v->p, v->n);
	return 0;
}

/* uuid (16) and hash (32): text of hex digits or bin of the exact size */
static int
co_bin(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	bool uuid = f->type == ST_UUID;
	size_t size = uuid ? 16 : 32;
	const char *what = uuid ? "a UUID" : "a SHA-256 hash";
	char q[JALIN_ECHO_MAX + 3];
	uint8_t b[32];
	bool ok;

	(void)r;
	if (v->t == V_BIN && v->n != size)
		return fail(x,
		    "%" PRIu32 "-byte bin is not %s (needs %zu bytes)", v->n,
		    what, size);
	if (v->t == V_STR) {
		ok = uuid ? uuid_text_ok(v->p, v->n, b)
		          : v->n == 64 && hex_ok(v->p, 32, b);
		if (!ok)
			return fail(x, "%s is not %s%s", subj(x, v->p, v->n, q),
			    what, uuid ? "" : " (64 hex characters)");
	} else if (v->t == V_BIN)
		memcpy(b, v->p, size);
	else
		return mismatch(x, f, v);
	msgpack_pack_bin(&x->pk, size);
	msgpack_pack_bin_body(&x->pk, b, size);
	return 0;
}

static int
co_list(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	unsigned old;
	uint32_t i;
	int rc;

	if (v->t != V_ARRAY)
		return mismatch(x, f, v);
	if (v->n > f->max)
		return fail(x,
		    "%" PRIu32 " items exceeds the limit of %" PRIu32, v->n,
		    f->max);
	msgpack_pack_array(&x->pk, v->n);
	for (i = 0; i < v->n; i++) {
		old = path_push(x, (struct seg){.kind = SEG_INDEX, .i = i});
		rc = co_value(x, f->item, r);
		path_pop(x, old);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* One key of a client map and the span of its value. */
struct ent {
	const uint8_t *k;
	uint32_t kn;
	uint32_t pos; /* entry number in the client's map */
	bool known;   /* key is a schema name or enum value: safe to print */
	struct rd val;
	const struct schema_field *sf;
};

/*
 * Canonical order of keys: by their encoded bytes. Our keys are shorter
 * than 256 bytes, encoded as fixstr (0xa0 | len) below 32 bytes and as
 * str8 (0xd9, len) from 32: comparing the encodings is comparing lengths
 * first, then the bytes.
 */
static int
ent_cmp(const void *a, const void *b)
{
	const struct ent *ea = a, *eb = b;

	if (ea->kn != eb->kn)
		return ea->kn < eb->kn ? -1 : 1;
	return memcmp(ea->k, eb->k, ea->kn);
}

/* "key 'date'" or, when the key may not be shown, "key of entry 3" */
static const char *
key_subj(const struct cx *x, const struct ent *e, char *out, size_t n)
{
	if (e->known || echo_ok(x, e->k, e->kn))
		snprintf(out, n, "key '%.*s'", (int)e->kn, (const char *)e->k);
	else
		snprintf(out, n, "key of entry %" PRIu32, e->pos);
	return out;
}

/* Read key number pos (a string) and skip over its value. */
static int
ent_read(struct cx *x, struct rd *r, uint32_t pos, struct ent *e)
{
	struct mv k;

	memset(e, 0, sizeof(*e));
	if (rd_head(r, &k) != 0)
		return malformed(x);
	if (k.t != V_STR)
		return fail(x,
		    "key of entry %" PRIu32 ": expected a string, got %s", pos,
		    got_names[k.t]);
	e->k = k.p;
	e->kn = k.n;
	e->pos = pos;
	e->val.p = r->p;
	if (rd_skip(r) != 0)
		return malformed(x);
	e->val.end = r->p;
	return 0;
}

static int
ent_write(struct cx *x, struct ent *e, size_t n)
{
	struct seg sg;
	size_t i;
	unsigned old;
	int rc;

	msgpack_pack_map(&x->pk, n);
	for (i = 0; i < n; i++) {
		pk_str(x, e[i].k, e[i].kn);
		sg = (struct seg){.s = (const char *)e[i].k, .n = e[i].kn};
		if (e[i].sf->name != NULL) /* object member */
			sg = (struct seg){
			    .kind = SEG_MEMBER, .s = e[i].sf->name};
		else if (e[i].known)
			sg.kind = SEG_KEY;
		else if (echo_ok(x, e[i].k, e[i].kn))
			sg.kind = SEG_QKEY;
		else
			sg = (struct seg){.kind = SEG_INDEX, .i = e[i].pos};
		old = path_push(x, sg);
		rc = co_value(x, e[i].sf, &e[i].val);
		path_pop(x, old);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const struct schema_field *
obj_member(const struct schema_field *f, const uint8_t *k, size_t n)
{
	uint16_t i;

	for (i = 0; i < f->nobj; i++)
		if (name_cmp((const char *)k, n, f->obj[i].name) == 0)
			return &f->obj[i];
	return NULL;
}

/* An item with named sub-fields: known keys only, each at most once. */
static int
co_object(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	struct ent e[OBJ_FIELDS_MAX], one;
	uint64_t seen = 0, bit;
	char ks[JALIN_MAP_KEY_MAX + 24];
	uint32_t i;
	int rc;

	if (v->t != V_MAP)
		return mismatch(x, f, v);
	if (f->nobj > OBJ_FIELDS_MAX)
		return fail(
		    x, "schema has more than %d sub-fields", OBJ_FIELDS_MAX);
	for (i = 0; i < v->n; i++) {
		if ((rc = ent_read(x, r, i, &one)) != 0)
			return rc;
		if ((one.sf = obj_member(f, one.k, one.kn)) == NULL)
			return fail(x, "%s is not a field of this item",
			    key_subj(x, &one, ks, sizeof(ks)));
		one.known = true;
		bit = (uint64_t)1 << (one.sf - f->obj);
		if (seen & bit)
			return fail(x, "%s appears twice",
			    key_subj(x, &one, ks, sizeof(ks)));
		seen |= bit;
		e[i] = one; /* i < nobj: every stored key is distinct */
	}
	qsort(e, v->n, sizeof(e[0]), ent_cmp);
	return ent_write(x, e, v->n);
}

static int
map_key(struct cx *x, const struct schema_field *f, struct ent *e)
{
	char ks[JALIN_MAP_KEY_MAX + 24], list[JALIN_ERRMSG_MAX];

	e->sf = f->item;
	if (f->enums != NULL) {
		if (enum_find(f->enums, e->k, e->kn) >= 0) {
			e->known = true;
			return 0;
		}
		enum_list(f->enums, list, sizeof(list));
		return fail(x, "%s is not one of %s",
		    key_subj(x, e, ks, sizeof(ks)), list);
	}
	if (e->kn == 0)
		return fail(x, "key of entry %" PRIu32 " is empty", e->pos);
	if (e->kn > JALIN_MAP_KEY_MAX)
		return fail(x,
		    "key of entry %" PRIu32 ": %" PRIu32
		    " bytes exceeds the limit of %d",
		    e->pos, e->kn, JALIN_MAP_KEY_MAX);
	if (utf8_bad(e->k, e->kn) < e->kn || memchr(e->k, '\0', e->kn))
		return fail(
		    x, "key of entry %" PRIu32 " is not valid UTF-8", e->pos);
	return 0;
}

/* A map of keys (enum values or free str(64)) to values of one type. */
static int
co_map(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	struct ent e[JALIN_LIST_ITEMS_MAX];
	char ks[JALIN_MAP_KEY_MAX + 24];
	uint32_t i;
	int rc;

	if (v->t != V_MAP)
		return mismatch(x, f, v);
	if (v->n > f->max || v->n > JALIN_LIST_ITEMS_MAX)
		return fail(x, "%" PRIu32 " keys exceeds the limit of %" PRIu32,
		    v->n, f->max);
	for (i = 0; i < v->n; i++) {
		if ((rc = ent_read(x, r, i, &e[i])) != 0 ||
		    (rc = map_key(x, f, &e[i])) != 0)
			return rc;
	}
	qsort(e, v->n, sizeof(e[0]), ent_cmp);
	for (i = 1; i < v->n; i++)
		if (ent_cmp(&e[i - 1], &e[i]) == 0)
			return fail(x, "%s appears twice",
			    key_subj(x,
			        e[i].pos > e[i - 1].pos ? &e[i] : &e[i - 1], ks,
			        sizeof(ks)));
	return ent_write(x, e, v->n);
}

/* keys: never from a client; peers' are checked by their shape (seal.h) */
static int
co_keys(struct cx *x, const struct schema_field *f, struct rd *r,
    const struct mv *v)
{
	(void)f;
	(void)r;
	(void)v;
	return fail(x, "set by the node (the record's data keys)");
}

static coerce_fn *const coercers[] = {
    [ST_STR] = co_str,
    [ST_INT] = co_int,
    [ST_BOOL] = co_bool,
    [ST_DATE] = co_date,
    [ST_TS] = co_int,
    [ST_ENUM] = co_enum,
    [ST_CODE] = co_code,
    [ST_MONEY] = co_int,
    [ST_UUID] = co_bin,
    [ST_HASH] = co_bin,
    [ST_LIST] = co_list,
    [ST_OBJECT] = co_object,
    [ST_MAP] = co_map,
    [ST_KEYS] = co_keys,
};

/* Read one value for f from r and pack its canonical form. */
static int
co_value(struct cx *x, const struct schema_field *f, struct rd *r)
{
	bool secret = x->secret;
	struct mv v;
	int rc;

	if (f->type < ST_STR || f->type >= ARRAY_LEN(coercers))
		return fail(x, "field has no valid type in the schema");
	if (f->cls >= CLS_S)
		x->secret = true;
	if (rd_head(r, &v) != 0)
		rc = malformed(x);
	else if (v.t == V_NIL)
		rc = fail(x, "nil is not allowed here");
	else
		rc = coercers[f->type](x, f, r, &v);
	x->secret = secret;
	return rc;
}

/* Hand the finished value to the caller's packer in one write. */
static int
flush(const struct buf *b, msgpack_packer *pk, struct jalin_err *err,
    struct cx *x)
{
	/* name the value only when there is something to say */
	const char *what = b->err != 0 ? path(x) : NULL;

	if (b->err == JALIN_ETOOBIG)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "%s: value exceeds the limit of %u bytes", what,
		    JALIN_VALUE_MAX);
	if (b->err != 0)
		return jalin_err_set(
		    err, b->err, "%s: %s", what, jalin_strerror(b->err));
	if (pk->callback(pk->data, (const char *)b->p, b->len) != 0)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "%s: the output refused a value of %zu bytes", path(x),
		    b->len);
	return 0;
}

int
schema_coerce(const struct schema_coll *c, const struct schema_field *f,
    const void *in, size_t len, msgpack_packer *pk, struct jalin_err *err)
{
	struct cx x = {.err = err};
	struct buf b;
	struct rd r;
	int rc;

	if (c == NULL || f == NULL || pk == NULL || (in == NULL && len > 0))
		return jalin_err_set(
		    err, JALIN_EINVAL, "schema_coerce: missing argument");
	path_push(
	    &x, (struct seg){.kind = SEG_FIELD, .s = c->name, .s2 = f->name});
	if (len == 0)
		return malformed(&x);
	uint8_t mem[1024]; /* most values fit: no allocation for them */
	buf_init_mem(&b, mem, sizeof(mem), JALIN_VALUE_MAX);
	msgpack_packer_init(&x.pk, &b, buf_pk_write);
	r.p = in;
	r.end = r.p + len;
	rc = co_value(&x, f, &r);
	if (rc == 0 && r.p != r.end)
		rc = jalin_err_set(err, JALIN_EPROTO,
		    "%s: %zu more bytes after the value", path(&x),
		    (size_t)(r.end - r.p));
	if (rc == 0)
		rc = flush(&b, pk, err, &x);
	buf_free(&b);
	return rc;
}

/* ---- schema_display ---------------------------------------------------- */

static int dp_value(msgpack_packer *pk, const struct schema_field *f,
    struct rd *r, unsigned depth);

/* bin as lowercase hex, in pieces: no allocation for large values */
static void
dp_hex(msgpack_packer *pk, const uint8_t *p, size_t n)
{
	char chunk[129];
	size_t k;

	msgpack_pack_str(pk, 2 * n);
	while (n > 0) {
		k = n < 64 ? n : 64;
		for (size_t i = 0; i < k; i++)
			snprintf(chunk + 2 * i, 3, "%02x", p[i]);
		msgpack_pack_str_body(pk, chunk, 2 * k);
		p += k;
		n -= k;
	}
}

static void
dp_uuid(msgpack_packer *pk, const uint8_t *p)
{
	char s[37];
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			s[o++] = '-';
		snprintf(s + o, 3, "%02x", p[i]);
		o += 2;
	}
	msgpack_pack_str_with_body(pk, s, 36);
}

static void
dp_scalar(msgpack_packer *pk, const struct schema_field *f, const struct mv *v)
{
	switch (v->t) {
	case V_NIL:
		msgpack_pack_nil(pk);
		break;
	case V_BOOL:
		if (v->b)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case V_UINT:
		msgpack_pack_uint64(pk, v->u);
		break;
	case V_INT:
		msgpack_pack_int64(pk, v->i);
		break;
	case V_FLOAT:
		if (v->f32)
			msgpack_pack_float(pk, (float)v->d);
		else
			msgpack_pack_double(pk, v->d);
		break;
	case V_STR:
		msgpack_pack_str_with_body(pk, v->p, v->n);
		break;
	case V_BIN:
		if (f != NULL && f->type == ST_UUID && v->n == 16)
			dp_uuid(pk, v->p);
		else
			dp_hex(pk, v->p, v->n);
		break;
	default: /* V_EXT */
		msgpack_pack_ext(pk, v->n, v->et);
		msgpack_pack_ext_body(pk, v->p, v->n);
		break;
	}
}

/* Map values: an object's sub-field by key, a map's item type, or none. */
static int
dp_map(msgpack_packer *pk, const struct schema_field *f, struct rd *r,
    uint32_t n, unsigned depth)
{
	const struct schema_field *vf;
	struct rd peek;
	struct mv k;
	uint32_t i;
	int rc;

	msgpack_pack_map(pk, n);
	for (i = 0; i < n; i++) {
		peek = *r;
		if (rd_head(&peek, &k) != 0)
			return JALIN_ECORRUPT;
		vf = NULL;
		if (f != NULL && f->type == ST_MAP)
			vf = f->item;
		else if (f != NULL && f->type == ST_OBJECT && k.t == V_STR)
			vf = obj_member(f, k.p, k.n);
		if ((rc = dp_value(pk, NULL, r, depth + 1)) != 0 ||
		    (rc = dp_value(pk, vf, r, depth + 1)) != 0)
			return rc;
	}
	return 0;
}

static int
dp_value(msgpack_packer *pk, const struct schema_field *f, struct rd *r,
    unsigned depth)
{
	const struct schema_field *item;
	struct mv v;
	uint32_t i;
	int rc;

	if (rd_head(r, &v) != 0)
		return JALIN_ECORRUPT;
	if (v.t != V_ARRAY && v.t != V_MAP) {
		dp_scalar(pk, f, &v);
		return 0;
	}
	if (depth >= JALIN_MP_DEPTH_MAX)
		return JALIN_ECORRUPT;
	if (v.t == V_MAP)
		return dp_map(pk, f, r, v.n, depth);
	item = f != NULL && f->type == ST_LIST ? f->item : NULL;
	msgpack_pack_array(pk, v.n);
	for (i = 0; i < v.n; i++)
		if ((rc = dp_value(pk, item, r, depth + 1)) != 0)
			return rc;
	return 0;
}

int
schema_display(const struct schema_field *f, const void *val, size_t len,
    msgpack_packer *pk)
{
	msgpack_packer tmp;
	struct buf b;
	struct rd r;
	int rc;

	if (pk == NULL || val == NULL || len == 0)
		return JALIN_ECORRUPT;
	/* hex doubles bin, a uuid grows from 18 to 38 bytes */
	buf_init(&b, len < SIZE_MAX / 4 ? 3 * len + 64 : SIZE_MAX);
	msgpack_packer_init(&tmp, &b, buf_pk_write);
	r.p = val;
	r.end = r.p + len;
	rc = dp_value(&tmp, f, &r, 0);
	if (rc == 0 && r.p != r.end)
		rc = JALIN_ECORRUPT;
	if (rc == 0 && b.err != 0)
		rc = b.err;
	if (rc == 0 && pk->callback(pk->data, (const char *)b.p, b.len) != 0)
		rc = JALIN_ETOOBIG;
	buf_free(&b);
	return rc;
}

/* ---- schema_check_record ----------------------------------------------- */

/* a <= b for two dates of one record, b at a precision given by a field */
struct date_rule {
	uint8_t coll;
	const char *lo, *hi;
	const char *lo_precision; /* field with e_precision, or NULL */
};

static const struct date_rule date_rules[] = {
    {COLL_CASE, "pasung.start_date", "pasung.release_date",
        "pasung.start_precision"},
    {COLL_PARTNERSHIP, "period_start", "period_end", NULL},
    {COLL_RESOURCE, "period_start", "period_end", NULL},
    {COLL_LKS, "registration.date", "registration.valid_until", NULL},
    {COLL_LKS, "accreditation.date", "accreditation.valid_until", NULL},
};

static const struct schema_kv *
kv_find(const struct schema_kv *kv, size_t n, const struct schema_field *f)
{
	size_t i;

	if (f == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (kv[i].tag == f->tag)
			return &kv[i];
	return NULL;
}

/* True if the value is sealed (an ext of type 2, record.h): only its
 * readers see what it holds. */
static bool
kv_sealed(const struct schema_kv *e)
{
	struct rd r = {e->val, e->val + e->len};
	struct mv v;

	return e->val != NULL && rd_head(&r, &v) == 0 && v.t == V_EXT &&
	    v.et == 2;
}

/* The stored string of a field (decoded into tmp if coded), or
 * JALIN_ECORRUPT. */
static int
kv_str(const struct schema_coll *c, const struct schema_field *f,
    const struct schema_kv *e, struct mv *v, uint8_t tmp[JALIN_RULE_STR_MAX],
    struct jalin_err *err)
{
	const uint8_t *pv = NULL;
	uint32_t plen = 0;
	struct buf t;

	buf_init_mem(&t, tmp, JALIN_RULE_STR_MAX, JALIN_RULE_STR_MAX);
	if (e->val != NULL &&
	    rec_val_plain(e->val, e->len, &t, &pv, &plen) != 0)
		pv = NULL;
	struct rd r = {pv, pv != NULL ? pv + plen : NULL};

	if (pv == NULL || rd_head(&r, v) != 0 || v->t != V_STR ||
	    r.p != r.end || (f->type == ST_DATE && !date_ok(v->p, v->n)))
		return jalin_err_set(err, JALIN_ECORRUPT,
		    "%s.%s: stored value does not decode as %s", c->name,
		    f->name, f->type == ST_DATE ? "a date" : "a string");
	return 0;
}

static int
check_required(const struct schema_coll *c, const struct schema_kv *kv,
    size_t n, struct jalin_err *err)
{
	uint16_t i;

	for (i = 0; i < c->nfields; i++)
		if ((c->fields[i].flags & SF_REQUIRED) &&
		    kv_find(kv, n, &c->fields[i]) == NULL)
			return jalin_err_set(err, JALIN_ESCHEMA,
			    "%s: required field '%s' is missing", c->name,
			    c->fields[i].name);
	return 0;
}

/* A referral carries proof of consent unless the law allows without. */
static int
check_consent(const struct schema_coll *c, const struct schema_kv *kv, size_t n,
    struct jalin_err *err)
{
	const struct schema_field *lb = schema_field_by_tag(c, TAG_LEGAL_BASIS);
	const struct schema_kv *e;
	uint8_t tmp[JALIN_RULE_STR_MAX];
	struct mv v;
	int rc;

	if (c->id != COLL_REFERRAL ||
	    kv_find(kv, n, schema_field_by_name(c, "consent_ref", 11)) != NULL)
		return 0;
	if ((e = kv_find(kv, n, lb)) != NULL) {
		if ((rc = kv_str(c, lb, e, &v, tmp, err)) != 0)
			return rc;
		if ((v.n == 14 && memcmp(v.p, "vital_interest", 14) == 0) ||
		    (v.n == 11 && memcmp(v.p, "public_task", 11) == 0))
			return 0;
	}
	return jalin_err_set(err, JALIN_ESCHEMA,
	    "%s.consent_ref: required unless legal_basis is vital_interest "
	    "or public_task",
	    c->name);
}

/* Characters of lo to compare: all, or what its precision field says. */
static int
rule_width(const struct schema_coll *c, const struct date_rule *dr,
    const struct schema_kv *kv, size_t n, size_t *w, struct jalin_err *err)
{
	static const size_t widths[] = {10, 7, 4, 0}; /* e_precision order */
	const struct schema_field *pf;
	const struct schema_kv *e;
	uint8_t tmp[JALIN_RULE_STR_MAX];
	struct mv v;
	int rc, i;

	*w = 10;
	if (dr->lo_precision == NULL)
		return 0;
	pf =
	    schema_field_by_name(c, dr->lo_precision, strlen(dr->lo_precision));
	if ((e = kv_find(kv, n, pf)) == NULL)
		return 0;
	if ((rc = kv_str(c, pf, e, &v, tmp, err)) != 0)
		return rc;
	if ((i = enum_find(e_precision, v.p, v.n)) < 0)
		return jalin_err_set(err, JALIN_ECORRUPT,
		    "%s.%s: stored value is not a precision", c->name,
		    pf->name);
	*w = widths[i];
	return 0;
}

static int
check_dates(const struct schema_coll *c, const struct date_rule *dr,
    const struct schema_kv *kv, size_t n, struct jalin_err *err)
{
	const struct schema_field *lf, *hf;
	const struct schema_kv *le, *he;
	struct mv lv, hv;
	uint8_t ltmp[JALIN_RULE_STR_MAX], htmp[JALIN_RULE_STR_MAX];
	size_t w;
	int rc;

	lf = schema_field_by_name(c, dr->lo, strlen(dr->lo));
	hf = schema_field_by_name(c, dr->hi, strlen(dr->hi));
	if ((le = kv_find(kv, n, lf)) == NULL ||
	    (he = kv_find(kv, n, hf)) == NULL)
		return 0;
	/* sealed (PROTOCOL.md §14): judged by their writer, who reads them */
	const struct schema_kv *pe = dr->lo_precision == NULL
	    ? NULL
	    : kv_find(kv, n,
	          schema_field_by_name(
	              c, dr->lo_precision, strlen(dr->lo_precision)));
	if (kv_sealed(le) || kv_sealed(he) || (pe != NULL && kv_sealed(pe)))
		return 0;
	if ((rc = kv_str(c, lf, le, &lv, ltmp, err)) != 0 ||
	    (rc = kv_str(c, hf, he, &hv, htmp, err)) != 0 ||
	    (rc = rule_width(c, dr, kv, n, &w, err)) != 0)
		return rc;
	if (memcmp(hv.p, lv.p, w) >= 0)
		return 0;
	if (lf->cls >= CLS_S || hf->cls >= CLS_S)
		return jalin_err_set(err, JALIN_ESCHEMA,
		    "%s.%s: must not be before %s", c->name, hf->name,
		    lf->name);
	return jalin_err_set(err, JALIN_ESCHEMA,
	    "%s.%s: must not be before %s (%.10s < %.10s)", c->name, hf->name,
	    lf->name, (const char *)hv.p, (const char *)lv.p);
}

bool
schema_rule_reads(const struct schema_coll *c, uint16_t tag)
{
	const struct schema_field *f = schema_field_by_tag(c, tag);

	if (f == NULL)
		return false;
	if (tag == TAG_LEGAL_BASIS)
		return true;
	for (size_t i = 0; i < ARRAY_LEN(date_rules); i++) {
		const struct date_rule *d = &date_rules[i];
		if (d->coll == c->id &&
		    (strcmp(f->name, d->lo) == 0 ||
		        strcmp(f->name, d->hi) == 0 ||
		        (d->lo_precision != NULL &&
		            strcmp(f->name, d->lo_precision) == 0)))
			return true;
	}
	return false;
}

int
schema_check_record(const struct schema_coll *c, const struct schema_kv *kv,
    size_t n, bool creating, struct jalin_err *err)
{
	size_t i;
	int rc;

	if (c == NULL || (kv == NULL && n > 0))
		return jalin_err_set(
		    err, JALIN_EINVAL, "schema_check_record: missing argument");
	if (creating && (rc = check_required(c, kv, n, err)) != 0)
		return rc;
	if ((rc = check_consent(c, kv, n, err)) != 0)
		return rc;
	for (i = 0; i < ARRAY_LEN(date_rules); i++)
		if (date_rules[i].coll == c->id &&
		    (rc = check_dates(c, &date_rules[i], kv, n, err)) != 0)
			return rc;
	return 0;
}

/* ---- names ------------------------------------------------------------- */

static const char *const type_names[] = {
    [ST_STR] = "str",
    [ST_INT] = "int",
    [ST_BOOL] = "bool",
    [ST_DATE] = "date",
    [ST_TS] = "ts",
    [ST_ENUM] = "enum",
    [ST_CODE] = "code",
    [ST_MONEY] = "money",
    [ST_UUID] = "uuid",
    [ST_HASH] = "hash",
    [ST_LIST] = "list",
    [ST_OBJECT] = "object",
    [ST_MAP] = "map",
    [ST_KEYS] = "keys",
};

const char *
schema_type_name(const struct schema_field *f, char *buf, size_t n)
{
	char item[64];
	const char *tn;

	if (buf == NULL || n == 0)
		return "";
	if (f == NULL || f->type < ST_STR || f->type >= ARRAY_LEN(type_names))
		tn = "?";
	else
		tn = type_names[f->type];
	if (f != NULL && f->type == ST_STR)
		snprintf(buf, n, "str(%" PRIu32 ")", f->max);
	else if (f != NULL && f->type == ST_LIST)
		snprintf(buf, n, "list<%s>",
		    schema_type_name(f->item, item, sizeof(item)));
	else if (f != NULL && f->type == ST_MAP)
		snprintf(buf, n, "map<%s,%s>", f->enums ? "enum" : "str",
		    schema_type_name(f->item, item, sizeof(item)));
	else
		snprintf(buf, n, "%s", tn);
	return buf;
}

const char *
schema_cls_name(unsigned cls)
{
	static const char *const names[] = {"N", "U", "S", "S!"};

	return cls < ARRAY_LEN(names) ? names[cls] : "?";
}

/* ---- values from peers --------------------------------------------------- */

/* The integer of v within f's range (ST_INT, ST_TS, ST_MONEY). */
static bool
int_ok(const struct schema_field *f, const struct mv *v)
{
	int64_t lo = f->type == ST_INT ? f->min_i : 0;
	int64_t hi = f->type == ST_INT ? f->max_i : INT64_MAX;

	if (v->t == V_UINT)
		return hi >= 0 && v->u <= (uint64_t)hi &&
		    (lo <= 0 || v->u >= (uint64_t)lo);
	return v->t == V_INT && v->i >= lo && v->i <= hi;
}

/*
 * The common scalar fields checked where they lie, without a copy: a
 * canonical value (record.h) that co_value would accept unchanged. false
 * means "not sure": schema_coerce decides and words the error.
 */
static bool
quick_ok(const struct schema_field *f, const uint8_t *p, size_t len)
{
	struct rd r = {p, p + len};
	struct mv v;

	if (rd_head(&r, &v) != 0 || r.p != r.end)
		return false;
	switch (f->type) {
	case ST_STR:
		return v.t == V_STR && v.n <= f->max && !is_node_name(f) &&
		    utf8_bad(v.p, v.n) == v.n && memchr(v.p, 0, v.n) == NULL;
	case ST_ENUM:
		return v.t == V_STR && enum_find(f->enums, v.p, v.n) >= 0;
	case ST_DATE:
		return v.t == V_STR && date_ok(v.p, v.n);
	case ST_BOOL:
		return v.t == V_BOOL;
	case ST_INT:
	case ST_TS:
	case ST_MONEY:
		return int_ok(f, &v);
	case ST_UUID:
		return v.t == V_BIN && v.n == 16;
	case ST_HASH:
		return v.t == V_BIN && v.n == 32;
	default:
		return false;
	}
}

int
schema_check_value(const struct schema_coll *c, const struct schema_field *f,
    const void *val, size_t len, struct jalin_err *err)
{
	uint8_t mem[1024];
	msgpack_packer pk;
	struct buf b;
	int rc;

	if (c == NULL || f == NULL || val == NULL || len == 0)
		return jalin_err_set(
		    err, JALIN_EINVAL, "schema_check_value: missing argument");
	if (quick_ok(f, val, len))
		return 0;
	buf_init_mem(&b, mem, sizeof(mem), JALIN_VALUE_MAX);
	msgpack_packer_init(&pk, &b, buf_pk_write);
	rc = schema_coerce(c, f, val, len, &pk, err);
	/* a peer sends the stored form: coercing it must change nothing
	 * (a UUID as text, say, is the client form, not a stored value) */
	if (rc == 0 && (b.len != len || memcmp(b.p, val, len) != 0))
		rc = jalin_err_set(err, JALIN_ESCHEMA,
		    "%s.%s: value is not in its stored form (expected %s)",
		    c->name, f->name,
		    f->type < ARRAY_LEN(type_names) && type_names[f->type]
		        ? type_names[f->type]
		        : "?");
	buf_free(&b);
	if (rc == JALIN_EPROTO || rc == JALIN_ETOOBIG)
		rc = JALIN_ESCHEMA; /* a value that breaks its field's rules */
	return rc;
}
