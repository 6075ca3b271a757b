#!/usr/bin/python3
"""gen.py - deterministic, realistic jalin records as JSON Lines.

    gen.py bulk  [--n N] [--seed S] [--out FILE] [--msgpack]   lks records
    gen.py cases [--n N] [--seed S] [--out FILE] [--msgpack]   case records

Each line is one JSON object with "collection", "id" and the record's fields
(the format of `jalinctl import`). The same seed and N give byte-identical
output. A summary (records, JSON bytes, field-value bytes, sizes) goes to
FILE.stats.json and to stderr. With --msgpack, FILE.mp also gets each
record as the msgpack item an admin IMPORT request carries, [collection,
id, {field: value}] (protocol/msg.h, MK_RECORDS), after a 4-byte big-endian
length: bench.py builds its socket frames from it without parsing JSON.

bulk: `lks` records with 13 text fields holding about 408 B of field values
(TARGETS.md, workload of record): name, legal_form, ahu_no, npwp, address,
region_code, contact.phone, contact.email, head.name, head.position,
siks_id, status, mode. Organisations in Jawa Barat, Banten and Sulawesi
Selatan.

cases: DOMAIN.md `case` records of 1 to 8 KB of JSON (target size drawn
uniformly), about a quarter of them pasung cases (the pasung.* block,
released / re-restrained / confined), the rest ATENSI cases of every
cluster; the fields present follow the case's stage (a case still at
"reported" has no assessment or plan; a terminated one has a termination
reason and outcome). Free text (notes, monitoring notes, assessment
resources, plan goals) is written from Indonesian casework phrases and fills
the record up to its target size.

Ids: UUIDv7 made here, in creation-time order (a record every 0.2-60 s of a
simulated 2025-2026 working period, the 12-bit rand_a a per-millisecond
counter, the other random bits from the seed). We give ids rather than
letting the node assign them so that (1) the LMDB ceiling can put exactly
the same keys in the same order, (2) runs are reproducible, and (3) the key
pattern is that of real inserts: UUIDv7 ids are time-ordered, so new records
land at the right edge of the B-tree, as they do on a live node.

Field-value bytes (the "raw record" size): for each field, the UTF-8 bytes
of a string value, or the compact JSON text of any other value (numbers,
booleans, lists, objects); field names, "id" and "collection" not counted.

Every record is valid for protocol/schema.c (checked by bench.py: the import
must report 0 errors).
"""

import argparse
import hashlib
import hmac
import json
import random
import sys
from datetime import date, datetime, timedelta, timezone

try:
    import msgpack  # only for --msgpack
except ImportError:
    msgpack = None

# ---- geography: Kemendagri codes (kab 01-69, kota 71-99) -------------------

PROVINCES = {
    "32": ("Jawa Barat", "jabar", (-7.7, -6.2), (106.4, 108.8)),
    "36": ("Banten", "banten", (-7.0, -5.9), (105.1, 106.8)),
    "73": ("Sulawesi Selatan", "sulsel", (-5.8, -2.5), (119.3, 121.0)),
}

# (code, name, postal code prefix)
KABKOTA = [
    ("32.01", "Kab. Bogor", "169"), ("32.02", "Kab. Sukabumi", "431"),
    ("32.03", "Kab. Cianjur", "432"), ("32.04", "Kab. Bandung", "403"),
    ("32.05", "Kab. Garut", "441"), ("32.06", "Kab. Tasikmalaya", "461"),
    ("32.07", "Kab. Ciamis", "462"), ("32.08", "Kab. Kuningan", "455"),
    ("32.09", "Kab. Cirebon", "451"), ("32.10", "Kab. Majalengka", "454"),
    ("32.11", "Kab. Sumedang", "453"), ("32.12", "Kab. Indramayu", "452"),
    ("32.13", "Kab. Subang", "412"), ("32.14", "Kab. Purwakarta", "411"),
    ("32.15", "Kab. Karawang", "413"), ("32.16", "Kab. Bekasi", "175"),
    ("32.17", "Kab. Bandung Barat", "405"),
    ("32.18", "Kab. Pangandaran", "463"),
    ("32.71", "Kota Bogor", "161"), ("32.72", "Kota Sukabumi", "431"),
    ("32.73", "Kota Bandung", "401"), ("32.74", "Kota Cirebon", "451"),
    ("32.75", "Kota Bekasi", "171"), ("32.76", "Kota Depok", "164"),
    ("32.77", "Kota Cimahi", "405"), ("32.78", "Kota Tasikmalaya", "461"),
    ("32.79", "Kota Banjar", "463"),
    ("36.01", "Kab. Pandeglang", "422"), ("36.02", "Kab. Lebak", "423"),
    ("36.03", "Kab. Tangerang", "155"), ("36.04", "Kab. Serang", "421"),
    ("36.71", "Kota Tangerang", "151"), ("36.72", "Kota Cilegon", "424"),
    ("36.73", "Kota Serang", "421"),
    ("36.74", "Kota Tangerang Selatan", "154"),
    ("73.01", "Kab. Kepulauan Selayar", "925"),
    ("73.02", "Kab. Bulukumba", "925"), ("73.03", "Kab. Bantaeng", "924"),
    ("73.04", "Kab. Jeneponto", "923"), ("73.05", "Kab. Takalar", "922"),
    ("73.06", "Kab. Gowa", "921"), ("73.07", "Kab. Sinjai", "926"),
    ("73.08", "Kab. Bone", "927"), ("73.09", "Kab. Maros", "905"),
    ("73.10", "Kab. Pangkajene dan Kepulauan", "906"),
    ("73.11", "Kab. Barru", "907"), ("73.12", "Kab. Soppeng", "908"),
    ("73.13", "Kab. Wajo", "909"), ("73.14", "Kab. Sidenreng Rappang", "916"),
    ("73.15", "Kab. Pinrang", "912"), ("73.16", "Kab. Enrekang", "917"),
    ("73.17", "Kab. Luwu", "919"), ("73.18", "Kab. Tana Toraja", "918"),
    ("73.22", "Kab. Luwu Utara", "919"), ("73.24", "Kab. Luwu Timur", "929"),
    ("73.26", "Kab. Toraja Utara", "918"),
    ("73.71", "Kota Makassar", "902"), ("73.72", "Kota Parepare", "911"),
    ("73.73", "Kota Palopo", "919"),
]
# Jawa Barat carries far more records than the others (DOMAIN.md: ~18% of
# the population); weight the provinces 6 : 2 : 2.
_PROV_SHARE = {"32": 6, "36": 2, "73": 2}
KAB_WEIGHTS = [_PROV_SHARE[k[0][:2]] / sum(1 for j in KABKOTA
                                          if j[0][:2] == k[0][:2])
               for k in KABKOTA]

KECAMATAN = {
    "32": ["Sukasari", "Coblong", "Cibeunying Kidul", "Bojongloa Kaler",
           "Cicendo", "Andir", "Kiaracondong", "Cibiru", "Ujungberung",
           "Cimahi Tengah", "Cibeber", "Cugenang", "Pacet", "Tarogong Kidul",
           "Cilawu", "Singaparna", "Mangunreja", "Cibinong", "Citeureup",
           "Cikarang Utara", "Tambun Selatan", "Pancoran Mas", "Sukmajaya",
           "Lemahabang", "Kedawung", "Jatiwangi", "Cimalaka", "Pagaden"],
    "36": ["Cipocok Jaya", "Taktakan", "Walantaka", "Kasemen", "Curug",
           "Pandeglang", "Labuan", "Rangkasbitung", "Malingping",
           "Ciledug", "Karawaci", "Cipondoh", "Pamulang", "Ciputat",
           "Serpong", "Balaraja", "Cikupa", "Kramatwatu", "Ciwandan"],
    "73": ["Tamalanrea", "Biringkanaya", "Panakkukang", "Manggala",
           "Rappocini", "Mariso", "Tallo", "Somba Opu", "Pallangga",
           "Bontomarannu", "Turikale", "Mandai", "Tanete Riattang",
           "Watampone", "Sinjai Utara", "Bantaeng", "Binamu", "Ujung Bulu",
           "Soreang", "Bacukiki", "Wara", "Makale", "Rantepao", "Tempe"],
}
DESA = {
    "32": ["Sukamaju", "Sukajadi", "Mekarsari", "Sindangsari", "Margahayu",
           "Sukarasa", "Cipedes", "Karangmekar", "Tamansari", "Cibeunying",
           "Sukamulya", "Cijambe", "Pasirjati", "Mekarwangi", "Cikoneng",
           "Sukaluyu", "Neglasari", "Babakan", "Cimuncang", "Padasuka"],
    "36": ["Kaligandu", "Sumur Pecung", "Kebon Jahe", "Panancangan",
           "Cipare", "Lontar Baru", "Kagungan", "Cimuncang", "Banjaragung",
           "Sukajaya", "Pakupatan", "Kemanisan", "Sindangsari", "Pabuaran"],
    "73": ["Tamangapa", "Sudiang", "Panaikang", "Bontoala", "Maccini",
           "Pattallassang", "Bontomarannu", "Paccinongang", "Tombolo",
           "Mawang", "Borongloe", "Kalabbirang", "Macanda", "Bontoramba",
           "Lembang", "Pacerakkang", "Bulurokeng", "Antang"],
}
STREETS = {
    "32": ["Merdeka", "Ahmad Yani", "Cihampelas", "Raya Cibabat", "Siliwangi",
           "Pajajaran", "Dipati Ukur", "Soekarno-Hatta", "Terusan Jakarta",
           "Raya Cianjur-Sukabumi", "Otto Iskandardinata", "Peta",
           "Gang Masjid Al-Ikhlas", "Raya Tarogong", "Pasundan", "Kaum"],
    "36": ["Raya Serang-Pandeglang", "Jenderal Sudirman", "Veteran",
           "KH. Abdul Hadi", "Raya Cilegon", "Ki Mas Jong", "Multatuli",
           "Raya Pamulang", "Perintis Kemerdekaan", "Ciwaru Raya",
           "Gang Haji Mahmud"],
    "73": ["Sultan Hasanuddin", "Perintis Kemerdekaan", "Urip Sumoharjo",
           "AP Pettarani", "Sultan Alauddin", "Poros Maros-Makassar",
           "Andi Djemma", "Veteran Selatan", "Abdullah Daeng Sirua",
           "Poros Malino", "Lorong Kenari", "Bau Massepe"],
}

# ---- people -----------------------------------------------------------------

FIRST = {
    "32": (["Asep", "Ujang", "Dede", "Cecep", "Dadang", "Yayan", "Tatang",
            "Usep", "Aceng", "Deden", "Engkos", "Jajang", "Ayi", "Encep",
            "Hendra", "Iwan", "Agus", "Rudi"],
           ["Iis", "Euis", "Neneng", "Ai", "Eneng", "Kokom", "Enok", "Nining",
            "Elis", "Rina", "Siti", "Nurhayati", "Teti", "Imas", "Cucu",
            "Lilis", "Yati", "Dewi"]),
    "36": (["Ahmad", "Muhammad", "Jaenudin", "Rohman", "Masrukhin", "Sarmadi",
            "Jaelani", "Mulyadi", "Sapri", "Hasanudin", "Suhendi", "Mamat"],
           ["Sarnah", "Iyah", "Rohayati", "Mursidah", "Siti", "Aminah",
            "Juhriyah", "Maesaroh", "Nurjanah", "Sanah", "Eni"]),
    "73": (["Andi", "Muh. Ilham", "Baso", "Ramli", "Syamsuddin", "Nurdin",
            "Hasanuddin", "Haeruddin", "Mustari", "Sudirman", "Basri",
            "Arifin", "Daeng Rani", "Abd. Rahman", "Makmur"],
           ["Sitti", "Hasniah", "Nurhayati", "Rahmawati", "Fatmawati",
            "Jumriani", "Hasnawati", "Andi Nurul", "Marhani", "Haslinda",
            "Nurbaya", "Suriani"]),
}
LAST = {
    "32": ["Sutisna", "Suryana", "Hidayat", "Sopandi", "Permana", "Kurniawan",
           "Setiawan", "Rohaeti", "Saepudin", "Mulyana", "Suherman",
           "Supriatna", "Ruhiat", "Gunawan", "Nurjaman", "Komarudin"],
    "36": ["Suryadi", "Jamhari", "Rohimat", "Mulyani", "Sukarna", "Fauzi",
           "Safrudin", "Hambali", "Sahroni", "Maulana"],
    "73": ["Mappasessu", "Pawelloi", "Latif", "Syarifuddin", "Makkasau",
           "Rauf", "Lasinrang", "Ambo Dalle", "Bachtiar", "Tahir",
           "Karaeng", "Mattalatta", "Palallo"],
}
TITLES_BEFORE = {"m": ["", "", "", "H. ", "H. ", "Drs. ", "Dr. ", "Ir. ",
                       "Drs. H. ", "Dr. H. "],
                 "f": ["", "", "", "Hj. ", "Hj. ", "Dra. ", "Dr. ", "Ir. ",
                       "Hj. Dra. ", "Dr. Hj. "]}
TITLES_AFTER = ["", "", ", S.Sos.", ", S.Sos., M.Si.", ", S.Pd.", ", M.Si.", ", S.Ag.",
                ", S.Kep.", ", M.Kes.", ", S.H."]

# ---- organisations ------------------------------------------------------------

ORG_KIND = [  # prefix, clusters it usually serves, weight
    ("Yayasan", None, 30), ("Yayasan Kesejahteraan Sosial", None, 10),
    ("Lembaga Kesejahteraan Sosial Anak (LKSA)", "child", 8),
    ("LKSA Panti Asuhan", "child", 8), ("LKS Lanjut Usia", "elderly", 8),
    ("Panti Sosial Bina Laras", "disability", 4),
    ("Yayasan Rumah Singgah", "social_deviance_trafficking", 4),
    ("IPWL Yayasan", "napza", 4), ("Pondok Rehabilitasi Mental", "napza", 3),
    ("Perkumpulan", None, 8), ("LKS Penyandang Disabilitas", "disability", 7),
]
ORG_CORE = [
    "Al-Hikmah", "Nurul Iman", "Darul Aitam", "Kasih Bunda", "Bina Insan Mandiri",
    "Harapan Bangsa", "Pelita Kasih", "Mitra Sejahtera", "Budi Mulia",
    "Sayap Ibu", "Peduli Jiwa", "Griya Lansia Sentosa", "Amal Sholeh",
    "Baitul Yatim", "Cahaya Hati", "Insan Cita Madani", "Tunas Harapan",
    "Berkah Ummat", "Rumah Harapan Sejahtera", "Mentari Pagi", "Bhakti Luhur",
    "Sekar Melati", "Al-Ikhlas", "Dharma Bakti", "Insan Kamil", "Nurul Huda",
    "Permata Hati", "Bina Daksa Mandiri", "Pelangi Nusantara", "Sinar Kasih",
    "Rumah Pemulihan Jiwa", "Sipakatau", "Siri na Pacce", "Sipakalebbi",
    "Mappakasunggu", "Silih Asih", "Silih Asah", "Someah Hade", "Gotong Royong",
]
ORG_DESC = ["Pendidikan dan Sosial", "Peduli Anak Yatim dan Dhuafa",
            "Rehabilitasi Sosial", "Bina Sejahtera", "Sosial Kemanusiaan",
            "Pemberdayaan Masyarakat", "Kesejahteraan Keluarga"]
POSITIONS = ["Ketua", "Ketua Pengurus Yayasan", "Ketua Pengurus Harian", "Ketua Umum",
             "Ketua Dewan Pembina", "Direktur Eksekutif", "Kepala Panti",
             "Pimpinan Lembaga", "Sekretaris Pengurus",
             "Koordinator Pelayanan Sosial", "Kepala Unit Rehabilitasi"]
ESTATES = ["Griya Asri", "Bumi Panyileukan", "Permata Hijau", "Taman Cibodas",
           "Graha Bukit Raya", "Bumi Tamalanrea Permai", "Citra Raya",
           "Puri Serang Hijau", "Margahayu Raya", "Antapani Indah"]
EMAIL_DOMAINS = ["gmail.com", "gmail.com", "gmail.com", "yahoo.co.id",
                 "yahoo.com", "outlook.com"]

UNIT_POOL = 400  # sentra, dinsos, LKS, puskesmas units referred to by uuid


class Gen:
    """One seeded random stream and the id clock."""

    def __init__(self, seed, kind):
        self.r = random.Random(f"jalin-bench/{kind}/{seed}")
        self.ms = int(datetime(2025, 1, 6, 1, 0, tzinfo=timezone.utc)
                      .timestamp() * 1000)
        self.seq = 0
        self.last_ms = -1
        units = random.Random(f"jalin-bench/units/{seed}")
        self.units = [self._uuid7(units, 1_700_000_000_000 + i * 977, i)
                      for i in range(UNIT_POOL)]
        self.nik_key = hashlib.sha256(b"jalin federation bench key").digest()

    @staticmethod
    def _uuid7(r, ms, counter):
        rand_b = r.getrandbits(62)
        v = (ms << 80) | (0x7 << 76) | ((counter & 0xFFF) << 64) \
            | (0b10 << 62) | rand_b
        h = f"{v:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def next_id(self):
        """UUIDv7, strictly increasing: creation time advances 0.2-60 s."""
        self.ms += self.r.randint(200, 60_000)
        self.seq = self.seq + 1 if self.ms == self.last_ms else 0
        self.last_ms = self.ms
        return self._uuid7(self.r, self.ms, self.seq)

    def now(self):
        return datetime.fromtimestamp(self.ms / 1000, tz=timezone.utc)

    # -- small helpers --
    def pick(self, seq):
        return seq[self.r.randrange(len(seq))]

    def chance(self, p):
        return self.r.random() < p

    def digits(self, n):
        return "".join(str(self.r.randrange(10)) for _ in range(n))

    def hexs(self, nbytes):
        return f"{self.r.getrandbits(nbytes * 8):0{nbytes * 2}x}"

    def region(self):
        kab = self.r.choices(KABKOTA, KAB_WEIGHTS)[0]
        return kab

    def place(self, kab):
        """Full address pieces and a desa/kelurahan-level code."""
        prov = kab[0][:2]
        is_kota = int(kab[0][3:5]) >= 71
        kec_no = self.r.randint(1, 24)
        desa_no = (1000 if is_kota or self.chance(0.15) else 2000) + \
            self.r.randint(1, 25)
        code = f"{kab[0]}.{kec_no:02d}.{desa_no}"
        kel = ("Kelurahan " if desa_no < 2000 else "Desa ") + \
            self.pick(DESA[prov])
        kec = "Kecamatan " + self.pick(KECAMATAN[prov])
        postal = kab[2] + self.digits(5 - len(kab[2]))
        return prov, code, kel, kec, postal

    def street_address(self, prov, kel, kec, kab, postal, rt=True):
        if self.chance(0.3):
            s = (f"Komp. {self.pick(ESTATES)} Blok {self.pick('ABCDEFGH')}"
                 f"{self.r.randint(1, 12)} No. {self.r.randint(1, 40)}")
        else:
            st = self.pick(STREETS[prov])
            if not st.startswith(("Gang", "Lorong")):
                st = "Jl. " + st
            s = f"{st} No. {self.r.randint(1, 250)}"
            if self.chance(0.3):
                s += self.pick(["A", "B", "C"])
        if kel.startswith("Desa") and self.chance(0.7):
            s = f"Kampung {self.pick(DESA[prov])}, {s}"
        if rt:
            s += f", RT {self.r.randint(1, 15):03d}/RW {self.r.randint(1, 12):03d}"
        return (f"{s}, {kel}, {kec}, {kab[1].replace('Kab.', 'Kabupaten')}, "
                f"Provinsi {PROVINCES[prov][0]}, Kode Pos {postal}")

    def person(self, prov, sex=None):
        sex = sex or self.pick("mf")
        first = self.pick(FIRST[prov][0 if sex == "m" else 1])
        if self.chance(0.75):
            return f"{first} {self.pick(LAST[prov])}", sex
        return first, sex

    def official(self, prov):
        name, sex = self.person(prov)
        return self.pick(TITLES_BEFORE[sex]) + name + self.pick(TITLES_AFTER)

    def phone_mobile(self):
        return "08" + self.pick(["11", "12", "13", "21", "22", "52", "53",
                                 "57", "77", "78", "95", "96"]) + \
            self.digits(self.r.choice([7, 8]))

    def phone_office(self, prov):
        area = {"32": ["022", "0251", "0263", "0262", "0231", "021"],
                "36": ["0254", "021", "0253", "0252"],
                "73": ["0411", "0481", "0421", "0471"]}[prov]
        return f"({self.pick(area)}) {self.digits(self.r.choice([6, 7]))}"

    def day(self, start, end):
        """A date between two dates (inclusive)."""
        span = (end - start).days
        return start + timedelta(days=self.r.randint(0, max(span, 0)))

    def geo(self, prov):
        (la0, la1), (lo0, lo1) = PROVINCES[prov][2], PROVINCES[prov][3]
        return f"{self.r.uniform(la0, la1):.6f},{self.r.uniform(lo0, lo1):.6f}"

    def unit(self):
        return self.pick(self.units)


def slug(s):
    out = "".join(c.lower() if c.isalnum() else "." for c in s)
    while ".." in out:
        out = out.replace("..", ".")
    return out.strip(".")


# ---- bulk: lks directory records --------------------------------------------

def lks_record(g):
    kab = g.region()
    prov, code, kel, kec, postal = g.place(kab)
    kind, _, _ = g.r.choices(ORG_KIND, [k[2] for k in ORG_KIND])[0]
    core = g.pick(ORG_CORE)
    town = kab[1].replace("Kab. ", "Kabupaten " if g.chance(0.5) else "")
    name = f"{kind} {core}"
    if g.chance(0.65):
        name = f"{kind} {g.pick(ORG_DESC)} {core}"
    if g.chance(0.9):
        name += f" {town}"
    legal_form = "perkumpulan" if kind == "Perkumpulan" else \
        g.r.choices(["yayasan", "perkumpulan", "unincorporated"],
                    [85, 8, 7])[0]
    year = g.r.randint(1998, 2025)
    ahu_kind = "AH.01.07" if legal_form == "perkumpulan" else "AH.01.04"
    ahu = f"AHU-{g.r.randint(1, 99999):07d}.{ahu_kind}.Tahun {year}"
    npwp = (f"{g.digits(2)}.{g.digits(3)}.{g.digits(3)}.{g.digits(1)}-"
            f"{g.digits(3)}.000")
    addr = g.street_address(prov, kel, kec, kab, postal)
    local = slug(kind.split(" (")[0].split()[0]) + "." + slug(core) + \
        ("." + slug(town.split()[-1]) if g.chance(0.8) else "") + \
        (str(g.r.randint(1, 99)) if g.chance(0.3) else "")
    email = f"{local}@{g.pick(EMAIL_DOMAINS)}"
    if g.chance(0.15):
        email = f"sekretariat@{slug(core).replace('.', '')}.or.id"
    rec = {
        "name": name,
        "legal_form": legal_form,
        "ahu_no": ahu,
        "npwp": npwp,
        "address": addr,
        "region_code": code if g.chance(0.8) else kab[0],
        "contact.phone": g.phone_office(prov) if g.chance(0.5)
        else g.phone_mobile(),
        "contact.email": email,
        "head.name": g.official(prov),
        "head.position": g.pick(POSITIONS),
        "siks_id": f"SIKS-NG/LKS/{kab[0].replace('.', '')}/{year}/"
                   f"{g.r.randint(1, 99999):06d}",
        "status": g.r.choices(["active", "inactive", "suspended"],
                              [90, 8, 2])[0],
        "mode": g.r.choices(["in_institution", "outside", "both"],
                            [35, 40, 25])[0],
    }
    return "lks", rec


# ---- cases ------------------------------------------------------------------

STAGES = ["reported", "outreach", "intake", "assessment", "planning",
          "intervention", "reintegration", "terminated", "follow_up", "closed"]
STAGE_W = [6, 6, 8, 10, 8, 24, 8, 8, 12, 10]
CLUSTERS = ["child", "disability", "elderly", "napza",
            "social_deviance_trafficking", "disaster_emergency", "other"]
PPKS = {
    "child": ["Anak Terlantar", "Anak Jalanan", "Anak Berhadapan dengan Hukum",
              "Anak Korban Kekerasan", "Anak dengan Disabilitas",
              "Anak Balita Terlantar"],
    "disability": ["Penyandang Disabilitas Mental", "Penyandang Disabilitas Fisik",
                   "Penyandang Disabilitas Intelektual",
                   "Penyandang Disabilitas Sensorik Netra"],
    "elderly": ["Lanjut Usia Terlantar", "Lanjut Usia Potensial Terlantar"],
    "napza": ["Korban Penyalahgunaan NAPZA"],
    "social_deviance_trafficking": ["Gelandangan", "Pengemis",
                                    "Korban Perdagangan Orang",
                                    "Tuna Susila", "Pemulung"],
    "disaster_emergency": ["Korban Bencana Alam", "Korban Bencana Sosial",
                           "Pekerja Migran Bermasalah Sosial"],
    "other": ["Perempuan Rawan Sosial Ekonomi", "Keluarga Bermasalah Sosial "
              "Psikologis", "Fakir Miskin", "Korban Tindak Kekerasan"],
}
DIAG = ["Skizofrenia paranoid (F20.0)", "Skizofrenia tak terinci (F20.3)",
        "Gangguan psikotik akut dan sementara (F23)",
        "Gangguan afektif bipolar (F31)", "Gangguan skizoafektif (F25)",
        "Retardasi mental sedang (F71)", "Episode depresif berat dengan "
        "gejala psikotik (F32.3)", "Gangguan mental organik (F06)",
        "Epilepsi dengan gangguan perilaku (G40, F07)"]
MEDS = ["Risperidone 2 mg 2x1, Trihexyphenidyl 2 mg 2x1",
        "Haloperidol 5 mg 2x1, Trihexyphenidyl 2 mg 2x1, Chlorpromazine "
        "100 mg 1x1 malam", "Clozapine 25 mg 1x1 malam",
        "Olanzapine 10 mg 1x1", "Risperidone 2 mg 2x1, Depakote 250 mg 2x1",
        "Fluphenazine decanoate 25 mg injeksi tiap 4 minggu",
        "Aripiprazole 10 mg 1x1, Sertraline 50 mg 1x1"]
ADHERENCE = ["kepatuhan baik, obat diambil keluarga di puskesmas tiap bulan",
             "kepatuhan kurang, sering lupa minum obat malam",
             "putus obat 2 bulan karena BPJS tidak aktif, sudah diaktifkan "
             "kembali", "minum obat diawasi ibu kandung",
             "obat habis sebelum jadwal kontrol, perlu pendampingan"]
NEEDS = ["pemeriksaan dan pengobatan di RSJ", "aktivasi BPJS PBI",
         "perbaikan tempat tidur dan kamar", "alat bantu kursi roda",
         "pendampingan minum obat", "penerbitan KTP-el dan KK",
         "bantuan permakanan", "terapi psikososial", "pelatihan vokasional "
         "menjahit", "dukungan keluarga dan psikoedukasi",
         "akses air bersih dan jamban", "pengasuhan alternatif",
         "pendidikan kesetaraan paket B", "konseling adiksi",
         "reunifikasi dengan keluarga", "modal usaha ekonomi produktif"]
SCORE_KEYS = ["pangan", "sandang", "papan", "kesehatan", "pendidikan",
              "kebersihan_diri", "relasi_sosial", "ekonomi_keluarga",
              "akses_dokumen", "air_bersih"]
GOALS = [
    "PM terbebas dari pasung dan mendapatkan pengobatan rutin",
    "keluarga mampu merawat PM di rumah dan mengawasi minum obat",
    "PM memiliki dokumen kependudukan dan terdaftar sebagai peserta JKN PBI",
    "PM kembali bersekolah dan tinggal bersama keluarga pengasuh",
    "PM mampu melakukan aktivitas sehari-hari secara mandiri",
    "keluarga memperoleh bantuan sosial dan usaha ekonomi produktif",
    "PM pulih dari ketergantungan NAPZA dan tidak kambuh",
    "PM lansia mendapatkan perawatan sosial dan pendampingan harian",
    "lingkungan (RT/RW, tokoh masyarakat) menerima kembali PM",
]
ACTIVITY = [
    "Kunjungan rumah bersama TKSK {kec}", "Koordinasi dengan puskesmas {kec}",
    "Temu bahas kasus di Dinas Sosial {kab}", "Pendampingan kontrol ke RSJ",
    "Asesmen lanjutan bersama psikolog sentra",
    "Pertemuan dengan kepala desa dan ketua RT",
    "Penyerahan bantuan permakanan", "Psikoedukasi keluarga",
    "Pengantaran PM ke sentra", "Pendampingan pembuatan KTP-el di Disdukcapil",
    "Kunjungan bimbingan lanjut",
]
FINDING = [
    "PM tampak lebih tenang, mau diajak bicara dan menjawab pertanyaan "
    "sederhana.", "Keluarga mengeluhkan biaya transportasi ke RSJ yang "
    "cukup besar.", "Obat tersedia untuk 2 minggu, jadwal kontrol berikutnya "
    "sudah disepakati.", "Kondisi kamar sudah lebih bersih dan ada ventilasi.",
    "PM kembali gelisah pada malam hari, keluarga khawatir PM mengamuk.",
    "Tetangga mulai menerima keberadaan PM dan tidak lagi mengusulkan "
    "pemasungan.", "PM mengikuti kegiatan keterampilan di sentra dengan baik.",
    "Ibu kandung PM sakit sehingga pengawasan minum obat dialihkan ke kakak.",
    "Berat badan PM naik 3 kg sejak bulan lalu.",
    "Kepala desa bersedia mengusulkan PM ke DTSEN pada musdes berikutnya.",
    "BPJS PBI sudah aktif, kartu KIS diterima keluarga.",
    "PM menolak minum obat karena merasa sudah sembuh; dilakukan edukasi "
    "ulang bersama kader jiwa.", "Anak sudah kembali bersekolah dan "
    "diantar oleh kakek setiap pagi.",
]
PLANS = [
    "Rencana tindak lanjut: kunjungan ulang 2 minggu lagi dan koordinasi "
    "dengan bidan desa.", "Disepakati rujukan ke RSJ untuk evaluasi dosis "
    "obat.", "Keluarga akan dilibatkan dalam kelompok dukungan sebaya.",
    "Pengajuan bantuan ATENSI (permakanan dan alat bantu) ke sentra.",
    "Pemantauan kepatuhan minum obat oleh kader kesehatan jiwa desa.",
]
PASUNG_STORY = [
    "Menurut keterangan {rel}, PM {how} sejak kurang lebih {yrs} tahun yang "
    "lalu karena sering mengamuk dan merusak barang tetangga.",
    "PM ditemukan {how} di {where} dengan kondisi kurus, rambut dan kuku "
    "panjang, serta luka lecet pada pergelangan kaki.",
    "Keluarga mengaku sudah pernah membawa PM berobat ke {heal} namun "
    "pengobatan terhenti karena biaya.",
    "Tidak tersedia air bersih di sekitar tempat PM dipasung; PM buang air "
    "di tempat yang sama.",
    "Pelepasan pasung dilakukan oleh tim gabungan ({team}) dengan "
    "persetujuan keluarga yang ditandatangani di atas materai.",
    "Setelah pelepasan, PM dirujuk ke {dest} untuk pemeriksaan dan "
    "perawatan.",
]
HOWS = ["dipasung menggunakan rantai", "dipasung dengan balok kayu",
        "dikurung di dalam kamar terkunci", "diikat dengan tali tambang"]
WHERES = ["gubuk di belakang rumah", "kandang bekas ternak",
          "kamar sempit berukuran 1,5 x 2 meter", "bilik di samping dapur"]
HEALS = ["orang pintar", "pengobatan alternatif", "pesantren",
         "puskesmas setempat", "RSJ namun hanya sekali"]
RSJ = {"32": ["RSJ Provinsi Jawa Barat (Cisarua)", "RS Marzoeki Mahdi Bogor",
              "RSUD Cianjur"],
       "36": ["RSUD Banten", "RS Jiwa Grha Atma (rujukan)", "RSUD Berkah "
              "Pandeglang"],
       "73": ["RSKD Dadi Provinsi Sulawesi Selatan", "RSUD Labuang Baji",
              "RSUD Syekh Yusuf Gowa"]}
SENTRA = {"32": ["Sentra Phalamartha Sukabumi", "Sentra Wyata Guna Bandung",
                 "Sentra Galuh Bekasi", "Sentra Terpadu Pangudi Luhur Bekasi"],
          "36": ["Sentra Terpadu Pangudi Luhur Bekasi", "Sentra Handayani "
                 "Jakarta"],
          "73": ["Sentra Wirajaya Makassar", "Sentra Gau Mabaji Gowa",
                 "Sentra Ar-Rahman Palopo"]}
ATENSI = ["living_needs", "social_care", "family_support", "therapy",
          "vocational", "social_assistance", "accessibility"]
PEERS = ["jabar", "banten", "sulsel", "nasional", "sentra-phalamartha",
         "sentra-wirajaya", "sentra-galuh", "dinsos-kota-bandung",
         "dinsos-kab-cianjur", "dinsos-kota-makassar"]


def dstr(d):
    return d.isoformat()


SOURCE_LABEL = {"family": "keluarga", "community": "masyarakat",
                "rt_rw": "ketua RT/RW", "village_head": "kepala desa",
                "tksk": "TKSK", "puskesmas": "puskesmas", "police": "kepolisian",
                "call_171": "layanan 171", "command_center": "Command Center",
                "media": "pemberitaan media", "self": "yang bersangkutan",
                "other": "pihak lain"}


def worker_id(g, prov):
    return f"peksos.{PROVINCES[prov][1]}.{g.r.randint(1, 240):03d}"


def case_record(g, target):
    """One case record whose JSON is about target bytes (1-8 KB)."""
    now = g.now()
    today = now.date()
    kab = g.region()
    prov, code, kel, kec, postal = g.place(kab)
    pasung = g.chance(0.25)
    cluster = "disability" if pasung else g.r.choices(
        CLUSTERS, [24, 22, 18, 8, 10, 6, 12])[0]
    stage = g.r.choices(STAGES, STAGE_W)[0]
    si = STAGES.index(stage)
    reported = today - timedelta(days=g.r.randint(5 + 25 * si, 60 + 90 * si))
    sex = g.pick("mf")
    name, _ = g.person(prov, sex)
    if cluster == "child":
        birth = g.day(today - timedelta(days=17 * 365), today - timedelta(days=2 * 365))
    elif cluster == "elderly":
        birth = g.day(date(1935, 1, 1), date(1964, 12, 31))
    else:
        birth = g.day(date(1960, 1, 1), date(2006, 12, 31))
    prec = g.r.choices(["day", "month", "year", "unknown"], [80, 8, 10, 2])[0]
    is_child = (today - birth).days < 18 * 365
    dd = birth.day + (40 if sex == "f" else 0)
    nik = f"{kab[0].replace('.', '')}{code[6:8]}{dd:02d}{birth.month:02d}" \
        f"{birth.year % 100:02d}{g.r.randint(1, 9999):04d}"
    kk = f"{kab[0].replace('.', '')}{code[6:8]}{g.digits(10)}"
    worker = worker_id(g, prov)
    reporter, _ = g.person(prov)
    grel = g.pick(["parent", "sibling", "spouse", "child", "other_relative"])
    gname, _ = g.person(prov)
    rec = {
        "controller": g.unit(),
        "legal_basis": g.r.choices(
            ["public_task", "vital_interest", "consent", "legal_obligation"],
            [60, 15, 20, 5])[0],
        "share_with": sorted(set([PROVINCES[prov][1]] + g.r.sample(
            PEERS, g.r.choice([0, 0, 1, 1, 2])))),
        "retention_until": dstr(date(today.year + 10, 12, 31)),
        "created_by": worker,
        "updated_by": worker,
        "case_no": f"{PROVINCES[prov][1].upper()}-{kab[0].replace('.', '')}-"
                   f"{reported.year}-{g.r.randint(1, 99999):05d}",
        "status": stage,
        "cluster": cluster,
        "ppks_type": g.pick(PPKS[cluster]),
        "approach": g.r.choices(["family", "community", "residential"],
                                [50, 25, 25])[0],
        "region_code": code,
        "handling_unit": g.unit(),
        "case_worker": worker,
        "reported_at": int(datetime(reported.year, reported.month,
                                    reported.day, 2, 30, tzinfo=timezone.utc)
                           .timestamp() * 1000) + g.r.randint(0, 28_800_000),
        "report_source": g.pick(["family", "community", "rt_rw",
                                 "village_head", "tksk", "puskesmas", "police",
                                 "call_171", "command_center", "media"]),
        "reporter_contact": f"{reporter} ({g.pick(['tetangga', 'ketua RT', 'kader posyandu', 'kepala dusun', 'kakak kandung'])}), {g.phone_mobile()}",
        "full_name": name,
        "nik_token": hmac.new(g.nik_key, nik.encode(), hashlib.sha256).hexdigest(),
        "nik": nik,
        "kk_no": kk,
        "sex": sex,
        "birth_date": dstr(birth),
        "birth_date_precision": prec,
        "is_child": is_child,
        "marital_status": "single" if is_child else g.pick(
            ["single", "married", "divorced", "widowed"]),
        "residence_type": g.r.choices(["household", "institution", "homeless"],
                                      [80, 10, 10])[0],
        "address": g.street_address(prov, kel, kec, kab, postal),
        "phone": g.phone_mobile(),
        "jkn_status": g.pick(["pbi", "pbi", "non_pbi", "none", "unknown"]),
        "guardian.name": gname,
        "guardian.relation": grel,
        "guardian.contact": g.phone_mobile(),
    }
    if g.chance(0.4):
        rec["geo"] = g.geo(prov)
    if g.chance(0.5):
        rec["dtsen_id"] = f"DTSEN{kab[0].replace('.', '')}{g.digits(10)}"
    if cluster == "disability" or g.chance(0.1):
        rec["disability_types"] = ["mental"] if pasung else sorted(set(
            g.r.sample(["physical", "intellectual", "mental", "sensory"],
                       g.r.choice([1, 1, 2]))))
        rec["disability_severity"] = g.pick(["mild", "moderate", "severe"])
    if is_child or cluster == "disability" and g.chance(0.3):
        rec["communication_aid"] = g.pick(
            ["bahasa isyarat", "didampingi ibu kandung", "bahasa Sunda",
             "bahasa Bugis, penerjemah keluarga", "gambar dan gerakan"])
    ctx = {"kec": kec, "kab": kab[1], "rel": g.pick(["ibu kandung", "kakak",
           "ayah", "paman", "istri"]), "how": g.pick(HOWS),
           "where": g.pick(WHERES), "heal": g.pick(HEALS),
           "yrs": g.r.randint(1, 9), "team": ", ".join(g.r.sample(
               ["TKSK", "puskesmas", "Dinsos", "sentra", "Babinsa",
                "Bhabinkamtibmas", "kepala desa"], 3)),
           "dest": g.pick(RSJ[prov])}
    if si >= 1:
        rec["consent"] = [{
            "by": "guardian" if is_child or pasung else g.pick(
                ["subject", "guardian", "both"]),
            "scope": sc, "method": g.pick(["written", "written", "recorded"]),
            "date": dstr(reported + timedelta(days=g.r.randint(1, 14))),
            "evidence": g.hexs(32)}
            for sc in (["services", "referral"] if g.chance(0.5)
                       else ["services"])]
    if si >= 3:
        ad = reported + timedelta(days=g.r.randint(7, 30))
        rec["assessment.date"] = dstr(ad)
        rec["assessment.assessor"] = worker_id(g, prov)
        rec["assessment.scores"] = {k: g.r.randint(1, 5) for k in
                                    g.r.sample(SCORE_KEYS, g.r.randint(4, 8))}
        rec["assessment.risk"] = g.pick(["low", "medium", "high", "critical"])
        rec["assessment.needs"] = g.r.sample(NEEDS, g.r.randint(2, 6))
        rec["assessment.resources"] = (
            f"Keluarga inti tinggal serumah ({g.r.randint(2, 7)} orang); "
            f"{ctx['rel']} bersedia mendampingi. Tersedia puskesmas {kec} "
            f"berjarak {g.r.randint(1, 15)} km dan kader jiwa desa aktif. "
            f"Penghasilan keluarga sekitar Rp{g.r.randint(6, 30) * 100_000:,}"
            f" per bulan dari {g.pick(['buruh tani', 'ojek', 'berdagang', 'buruh harian lepas', 'nelayan'])}.")
        if pasung or cluster == "disability" and g.chance(0.5):
            rec["diagnosis"] = g.pick(DIAG)
            rec["medication"] = f"{g.pick(MEDS)}; {g.pick(ADHERENCE)}"
    if si >= 4:
        rec["plan.goals"] = "; ".join(g.r.sample(GOALS, g.r.randint(2, 4)))
        rec["plan.components"] = [c for c in ATENSI if g.chance(0.45)] or \
            ["family_support"]
        rec["plan.conference_date"] = dstr(reported + timedelta(
            days=g.r.randint(20, 45)))
    if si >= 5:
        rec["services"] = [{
            "component": g.pick(rec["plan.components"]),
            "date": dstr(reported + timedelta(days=g.r.randint(30, 120))),
            "provider": g.unit(), "qty": g.r.randint(1, 30),
            "value": g.r.randint(1, 60) * 50_000,
            "funding": g.pick(["apbn", "apbn", "apbd", "lks", "csr"])}
            for _ in range(g.r.randint(1, 5))]
    if stage in ("terminated", "closed"):
        rec["terminated_at"] = dstr(today - timedelta(days=g.r.randint(1, 60)))
        rec["termination_reason"] = g.r.choices(
            ["goal_met", "referred", "refused", "died", "moved",
             "lost_contact"], [50, 20, 8, 5, 10, 7])[0]
        rec["outcome"] = g.pick([
            "PM mampu menjalankan fungsi sosial dasar, tinggal bersama keluarga "
            "dan rutin kontrol ke puskesmas.", "Keberfungsian sosial meningkat; "
            "PM bekerja membantu usaha keluarga.", "PM dirujuk ke sentra untuk "
            "rehabilitasi lanjutan; kasus di unit ini ditutup.",
            "Keluarga menolak layanan lanjutan; hasil belum optimal."])
    if pasung:
        add_pasung(g, rec, reported, today, si, prov, ctx)
    if si >= 1 and g.chance(0.6):
        rec["attachments"] = [{"kind": k, "hash": g.hexs(32),
                               "size": g.r.randint(80_000, 2_000_000)}
                              for k in g.r.sample(["ktp", "kk", "kis",
                                                   "medical_letter",
                                                   "cover_letter", "photo",
                                                   "handover"],
                                                  g.r.randint(1, 4))]
    fill_text(g, rec, target, reported, today, si, pasung, ctx)
    return "case", rec


def add_pasung(g, rec, reported, today, si, prov, ctx):
    start_prec = g.r.choices(["day", "month", "year", "unknown"],
                             [10, 30, 50, 10])[0]
    start = reported - timedelta(days=g.r.randint(200, 3600))
    if start_prec == "month":
        start = start.replace(day=1)
    elif start_prec in ("year", "unknown"):
        start = start.replace(month=1, day=1)
    ctx["yrs"] = max(1, (reported - start).days // 365)
    status = "restrained" if si <= 1 else g.r.choices(
        ["released", "re_restrained", "confined"], [80, 8, 12])[0]
    rec["pasung.status"] = status
    rec["pasung.method"] = g.r.choices(
        ["chain", "wooden_stocks", "rope", "locked_room", "other"],
        [40, 20, 10, 25, 5])[0]
    rec["pasung.setting"] = g.r.choices(
        ["house", "shed", "hut", "healing_center", "other"],
        [30, 25, 35, 5, 5])[0]
    rec["pasung.start_date"] = dstr(start)
    rec["pasung.start_precision"] = start_prec
    rec["pasung.prior_episodes"] = g.r.choices([0, 1, 2, 3], [60, 25, 10, 5])[0]
    rec["pasung.discovered_at"] = dstr(reported)
    rec["pasung.conditions"] = sorted(set(g.r.sample(
        ["no_clean_water", "poor_sanitation", "malnutrition", "injury"],
        g.r.randint(1, 4))))
    rec["pasung.family_consent"] = g.r.choices(["yes", "partial", "no"],
                                               [75, 15, 10])[0]
    if status != "restrained":
        rel = reported + timedelta(days=g.r.randint(1, 21))
        rec["pasung.release_date"] = dstr(rel)
        rec["pasung.release_team"] = sorted(set(g.r.sample(
            ["sentra", "trc", "tksk", "puskesmas", "dinsos", "police"],
            g.r.randint(2, 4))))
        rec["pasung.released_to"] = g.pick(["rsj", "rsj", "rsu", "puskesmas",
                                            "sentra", "family"])
        rec["pasung.followup_next"] = dstr(today + timedelta(
            days=g.r.randint(3, 40)))
        if status == "re_restrained":
            rec["pasung.re_pasung_at"] = dstr(rel + timedelta(
                days=g.r.randint(30, 200)))
    if si >= 3 and "coercive_basis" not in rec and g.chance(0.2):
        rec["coercive_basis"] = ("Tindakan pengamanan sementara saat PM "
                                 "mengamuk, sesuai PP 52/2019 Pasal 9, "
                                 "didampingi tenaga kesehatan puskesmas.")


def visit_note(g, ctx, d, limit):
    parts = [f"{d.strftime('%d-%m-%Y')}: {g.pick(ACTIVITY).format(**ctx)}."]
    for _ in range(g.r.randint(1, 4)):
        parts.append(g.pick(FINDING))
    parts.append(g.pick(PLANS))
    s = " ".join(parts)
    return s[:limit]


def fill_text(g, rec, target, reported, today, si, pasung, ctx):
    """Monitoring visits and notes until the JSON is about target bytes."""
    def jlen(v):
        return len(json.dumps(v, ensure_ascii=False, separators=(",", ":")))

    # "collection" and "id" take about 70 bytes of the line
    size = jlen(rec) + 70
    notes = []
    if pasung:
        notes += [t.format(**ctx) for t in PASUNG_STORY if g.chance(0.8)]
    else:
        notes.append(f"Laporan diterima dari "
                     f"{SOURCE_LABEL[rec['report_source']]} pada "
                     f"{reported.strftime('%d-%m-%Y')}; PM "
                     f"{rec['ppks_type'].lower()} berdomisili di "
                     f"{ctx['kec']}, {ctx['kab']}.")
    size += len('"notes":"",') + sum(len(n) + 2 for n in notes)
    mon = []
    d = reported + timedelta(days=g.r.randint(3, 10))
    if si >= 5 and size < target - 400:
        size += len('"monitoring":[],')
        while size < target - 400 and len(mon) < 40 and d < today:
            m = {"date": dstr(d), "by": rec["case_worker"],
                 "note": visit_note(g, ctx, d, 1024)}
            mon.append(m)
            size += jlen(m) + 1
            d += timedelta(days=g.r.randint(7, 35))
            if g.chance(0.35):  # the rest goes into the notes
                break
        rec["monitoring"] = mon
    d = reported
    nbytes = sum(len(n.encode()) + 1 for n in notes)
    while size < target:
        line = visit_note(g, ctx, d, min(target - size + 40, 1024))
        if nbytes + len(line.encode()) + 1 > 8192:
            break
        notes.append(line)
        size += len(line) + 2
        nbytes += len(line.encode()) + 1
        d += timedelta(days=g.r.randint(2, 20))
    rec["notes"] = "\n".join(notes)


# ---- output -----------------------------------------------------------------

def field_bytes(rec):
    n = 0
    for v in rec.values():
        if isinstance(v, str):
            n += len(v.encode())
        else:
            n += len(json.dumps(v, ensure_ascii=False, separators=(",", ":")))
    return n


def generate(kind, n, seed, out, mp=None):
    g = Gen(seed, kind)
    stats = {"kind": kind, "n": n, "seed": seed, "json_bytes": 0,
             "field_bytes": 0, "json_min": None, "json_max": 0,
             "fields_min": None, "fields_max": 0}
    for _ in range(n):
        rid = g.next_id()
        if kind == "bulk":
            coll, rec = lks_record(g)
        else:
            coll, rec = case_record(g, g.r.randint(1024, 8100))
        line = json.dumps({"collection": coll, "id": rid, **rec},
                          ensure_ascii=False, separators=(",", ":")) + "\n"
        b = line.encode()
        out.write(b)
        if mp is not None:
            item = msgpack.packb([coll, rid, rec], use_bin_type=True)
            mp.write(len(item).to_bytes(4, "big"))
            mp.write(item)
        fb = field_bytes(rec)
        stats["json_bytes"] += len(b)
        stats["field_bytes"] += fb
        stats["json_min"] = min(stats["json_min"] or len(b), len(b))
        stats["json_max"] = max(stats["json_max"], len(b))
        stats["fields_min"] = min(stats["fields_min"] or len(rec), len(rec))
        stats["fields_max"] = max(stats["fields_max"], len(rec))
    stats["json_mean"] = stats["json_bytes"] / max(n, 1)
    stats["field_mean"] = stats["field_bytes"] / max(n, 1)
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=["bulk", "cases"])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="-", help="file (default stdout)")
    ap.add_argument("--msgpack", action="store_true",
                    help="also write FILE.mp (import request items)")
    a = ap.parse_args()
    if a.n < 1:
        ap.error("--n must be at least 1")
    if a.msgpack and a.out == "-":
        ap.error("--msgpack needs --out FILE")
    if a.msgpack and msgpack is None:
        ap.error("--msgpack needs python3-msgpack")
    if a.out == "-":
        stats = generate(a.kind, a.n, a.seed, sys.stdout.buffer)
    else:
        with open(a.out, "wb") as f:
            if a.msgpack:
                with open(a.out + ".mp", "wb") as mp:
                    stats = generate(a.kind, a.n, a.seed, f, mp)
            else:
                stats = generate(a.kind, a.n, a.seed, f)
        with open(a.out + ".stats.json", "w") as f:
            json.dump(stats, f, indent=1)
    print(f"gen.py: {a.kind}: {stats['n']} records, "
          f"{stats['json_bytes']} B JSON ({stats['json_mean']:.0f} B/record, "
          f"{stats['json_min']}-{stats['json_max']}), field values "
          f"{stats['field_mean']:.0f} B/record, {stats['fields_min']}-"
          f"{stats['fields_max']} fields", file=sys.stderr)


if __name__ == "__main__":
    main()
