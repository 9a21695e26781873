# Packs the Claude Code ids in event_rows.d1 (22 base-62 characters) of a COPY of a store as a BLOB, 7-bit
# (enc7) or 8-bit (enc8), and rewrites the events view to unpack them; check compares details with the
# original store, time measures a whole-view scan. Measurement only (docs/storage.md, "The Claude Code ids in
# d1 packed"): python3 details-ids-measure.py enc7|enc8|time <copy.db>, or check <copy.db> <original.db>.
import sqlite3, sys, time, shutil, re
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
IDX = {ch: i for i, ch in enumerate(A)}
def is_id(s):
    return isinstance(s, str) and len(s) == 22 and all(ch in IDX for ch in s)
def value(chunk):
    # base-62 characters as one integer, most significant first
    v = 0
    for ch in chunk: v = v*62 + IDX[ch]
    return v
def enc7(s):
    # 22 base-62 chars -> 19 bytes of 1..127: three 7-char chunks as 6 base-127 digits (+1), the last char as one byte (+1)
    if not is_id(s): return s
    out = bytearray()
    for c in range(3):
        v = value(s[7*c:7*c+7])
        ds = []
        for _ in range(6): ds.append(v % 127 + 1); v //= 127
        out += bytes(reversed(ds))
    out.append(IDX[s[21]] + 1)
    return bytes(out)
def enc8(s):
    # 22 chars -> 17 bytes: five 4-char chunks as 3 bytes, the last 2 chars as 2 bytes
    if not is_id(s): return s
    out = bytearray()
    for c in range(5): out += value(s[4*c:4*c+4]).to_bytes(3, 'big')
    out += value(s[20:22]).to_bytes(2, 'big')
    return bytes(out)
def chars(nexpr, k):
    # k base-62 chars of integer expression n, most significant first
    return " || ".join(f"substr('{A}', {nexpr} / {62**(k-1-j)} % 62 + 1, 1)" for j in range(k))
def dec7(col):
    parts = []
    for c in range(3):
        n = "(" + " + ".join(f"(unicode(substr({col}, {6*c+i+1}, 1)) - 1) * {127**(5-i)}" for i in range(6)) + ")"
        parts.append(f"(SELECT {chars('n', 7)} FROM (SELECT {n} AS n))")
    parts.append(f"substr('{A}', unicode(substr({col}, 19, 1)), 1)")
    return " || ".join(parts)
def dec8(col):
    H = "'0123456789ABCDEF'"
    def byteexpr(h, i):  # byte i (0-based) of hex text h
        return f"((instr({H}, substr({h}, {2*i+1}, 1)) - 1) * 16 + instr({H}, substr({h}, {2*i+2}, 1)) - 1)"
    parts = []
    for c in range(5):
        n = f"({byteexpr('h', 3*c)} * 65536 + {byteexpr('h', 3*c+1)} * 256 + {byteexpr('h', 3*c+2)})"
        parts.append(f"(SELECT {chars('n', 4)} FROM (SELECT {n} AS n))")
    n = f"({byteexpr('h', 15)} * 256 + {byteexpr('h', 16)})"
    parts.append(f"(SELECT {chars('n', 2)} FROM (SELECT {n} AS n))")
    return f"(SELECT {' || '.join(parts)} FROM (SELECT hex({col}) AS h))"

mode, db = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
if mode in ("enc7", "enc8"):
    f = enc7 if mode == "enc7" else enc8
    dec = dec7 if mode == "enc7" else dec8
    c.create_function("enc", 1, f, deterministic=True)
    t = time.time()
    n = c.execute("UPDATE event_rows SET d1 = enc(d1) WHERE typeof(d1) = 'text' AND length(d1) = 22 AND kind IN (SELECT id FROM kinds WHERE details_shape <> 0)").rowcount
    print("rows encoded", n, round(time.time()-t, 1), "s")
    view = c.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    cnt = view.count("coalesce(r.d1, '')")
    view = view.replace("coalesce(r.d1, '')", f"coalesce(CASE WHEN typeof(r.d1) = 'blob' THEN {dec('r.d1')} ELSE r.d1 END, '')")
    print("replaced", cnt, "view length", len(view))
    c.execute("DROP VIEW events"); c.execute(view); c.commit()
elif mode == "check":
    c.execute("ATTACH ? AS o", (sys.argv[3],))
    print("differ", c.execute("SELECT count(*) FROM events e JOIN o.events f ON f.id = e.id WHERE e.details IS NOT f.details").fetchone()[0],
          "of", c.execute("SELECT count(*) FROM events e JOIN o.events f ON f.id = e.id").fetchone()[0])
elif mode == "time":
    for i in range(3):
        t = time.process_time()
        s = c.execute("SELECT sum(length(details)) FROM events").fetchone()[0]
        t1 = time.process_time()
        s2 = c.execute("SELECT count(*) FROM events WHERE details LIKE '%msg_01%'").fetchone()[0]
        t2 = time.process_time()
        print("all details", s, round(t1-t, 2), "s CPU;", "LIKE msg_01", s2, round(t2-t1, 2), "s CPU")
