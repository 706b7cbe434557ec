#!/usr/bin/env python3
"""Deterministic labeled corpus for benchmarking secret scanners (Coffer and the anchors).

    gen_corpus.py --seed 42 --size-mb 260 --out DIR

writes DIR/tree/ (the thing to scan) and DIR/labels.json (what is in it):

* DIR/tree/planted/...  synthetic projects of many file kinds (.env, YAML, Kubernetes, JSON,
  TOML, .properties, INI, .tfvars, Dockerfiles, shell, Python/JS/Go/Java/C#, XML app.config,
  .npmrc, .aws/credentials, PEM/OpenSSH keys, CI YAML, ...) with planted secrets of every kind
  the rules cover and hard negatives (example keys, placeholders, publishable keys, hashes,
  UUIDs, lockfile integrity, base64 images, SOPS / ansible-vault blobs, impossible checksums).
* DIR/tree/vendor/...   real third-party source code copied from cargo's registry cache
  (~/.cargo/registry/src/*/): whole crates, text files only, chosen by a seeded shuffle of the
  sorted crate list until the size target is reached.

Background policy: vendor/ is treated as containing no secrets EXCEPT complete PEM/OpenSSH/PGP
private-key blocks, which crate authors do ship in test fixtures; a post-pass finds them with a
strict structural check and labels them (source "background", family "private-key") so a scanner
that reports them is credited and one that misses them is charged. Anything else a tool reports
in vendor/ is a false positive unless bench/scan/known_background_findings.json (manually
reviewed) says otherwise. See README.md.

Python 3 standard library only. Same seed + same size + same registry contents => same bytes.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import re
import string
import sys
import zlib

MB = 1 << 20
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"

# ----------------------------------------------------------------------------- helpers


class R:
    """Seeded randomness with the handful of shapes the generators need."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def s(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def choice(self, xs):
        return self.r.choice(xs)

    def randint(self, a, b):
        return self.r.randint(a, b)

    def random(self):
        return self.r.random()

    def bytes(self, n):
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def uuid(self):
        h = self.s(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.choice('89ab')}{h[17:20]}-{h[20:32]}"

    def shuffle(self, xs):
        self.r.shuffle(xs)


def b62_checksum(crc):
    out = ""
    for _ in range(6):
        out = B62[crc % 62] + out
        crc //= 62
    return out


def gh_style(prefix, rnd):
    """GitHub / npm format: prefix, 30 base62 chars, base62 CRC32 of those 30 chars."""
    body = rnd.s(B62, 30)
    return prefix + body + b62_checksum(zlib.crc32(body.encode()))


def coffer_token(rnd, prefix="cfs_"):
    """crates/crypto/src/token.rs: CRC32 over prefix + 30 random chars, base62, 6 chars."""
    signed = prefix + rnd.s(B62, 30)
    return signed + b62_checksum(zlib.crc32(signed.encode()))


def coffer_batch_token(rnd):
    signed = "cfb_" + base64.urlsafe_b64encode(rnd.bytes(rnd.randint(60, 90))).decode().rstrip("=")
    return signed + b62_checksum(zlib.crc32(signed.encode()))


def corrupt_checksum(tok):
    last = tok[-1]
    return tok[:-1] + ("A" if last != "A" else "B")


# bech32 (BIP-173) for age secret keys
BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def bech32_encode(hrp, data8):
    acc, bits, data = 0, 0, []
    for b in data8:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    hv = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    pm = _polymod(hv + data + [0] * 6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH[d] for d in data + chk)


def age_key(rnd):
    return bech32_encode("age-secret-key-", rnd.bytes(32)).upper()


# ----------------------------------------------------------------------------- key material

def der_len(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return der(0x02, b)


def der_seq(*parts):
    return der(0x30, b"".join(parts))


def is_probable_prime(n, rnd):
    if n < 4:
        return n in (2, 3)
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(12):
        a = rnd.r.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def gen_prime(bits, rnd):
    while True:
        c = rnd.r.getrandbits(bits) | (1 << (bits - 1)) | (3 << (bits - 2)) | 1
        if is_probable_prime(c, rnd):
            return c


def rsa_der(rnd, bits=2048):
    e = 65537
    while True:
        p, q = gen_prime(bits // 2, rnd), gen_prime(bits // 2, rnd)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            break
    n, d = p * q, pow(e, -1, phi)
    return der_seq(*(der_int(x) for x in (0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))))


# ed25519 (RFC 8032 reference arithmetic) for OpenSSH keys
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_GY = 4 * pow(5, _P - 2, _P) % _P


def _xrecover(y):
    xx = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    x = pow(xx, (_P + 3) // 8, _P)
    if (x * x - xx) % _P:
        x = x * pow(2, (_P - 1) // 4, _P) % _P
    return _P - x if x % 2 else x


_G = (_xrecover(_GY), _GY, 1, _xrecover(_GY) * _GY % _P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % _P
    B = (y1 + x1) * (y2 + x2) % _P
    C = t1 * 2 * _D * t2 % _P
    Dd = z1 * 2 * z2 % _P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % _P, G * H % _P, F * G % _P, E * H % _P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def ed25519_pub(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    x, y, z, _ = _mul(a, _G)
    zi = pow(z, _P - 2, _P)
    x, y = x * zi % _P, y * zi % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ssh_str(b):
    if isinstance(b, str):
        b = b.encode()
    return len(b).to_bytes(4, "big") + b


def openssh_ed25519(rnd, comment):
    seed = rnd.bytes(32)
    pk = ed25519_pub(seed)
    pub_blob = ssh_str("ssh-ed25519") + ssh_str(pk)
    check = rnd.bytes(4)
    priv = check + check + ssh_str("ssh-ed25519") + ssh_str(pk) + ssh_str(seed + pk) + ssh_str(comment)
    i = 1
    while len(priv) % 8:
        priv += bytes([i])
        i += 1
    blob = b"openssh-key-v1\0" + ssh_str("none") + ssh_str("none") + ssh_str(b"") + (1).to_bytes(4, "big")
    blob += ssh_str(pub_blob) + ssh_str(priv)
    body = base64.b64encode(blob).decode()
    lines = [body[i:i + 70] for i in range(0, len(body), 70)]
    pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END OPENSSH PRIVATE KEY-----"
    pub = "ssh-ed25519 " + base64.b64encode(pub_blob).decode() + " " + comment
    return pem, pub


def pem(label, der_bytes):
    body = base64.b64encode(der_bytes).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def crc24(data):
    crc = 0xB704CE
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def pgp_private(rnd):
    body = bytes([4]) + rnd.bytes(4) + bytes([22, 9]) + bytes.fromhex("2b06010401da470f01") + rnd.bytes(300)
    packet = bytes([0xC5]) + bytes([0xC0 + (len(body) - 192) // 256, (len(body) - 192) % 256]) + body
    b64 = base64.b64encode(packet).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    ck = base64.b64encode(crc24(packet).to_bytes(3, "big")).decode()
    return ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + "\n".join(lines) + "\n=" + ck +
            "\n-----END PGP PRIVATE KEY BLOCK-----")


RSA_BITS = 2048


def private_key(rnd, kind):
    if kind == "rsa-private-key":
        return pem("RSA PRIVATE KEY", rsa_der(rnd, RSA_BITS))
    if kind == "pkcs8-private-key":
        if rnd.random() < 0.5:
            inner = der(0x04, der(0x04, rnd.bytes(32)))
            alg = der_seq(der(0x06, bytes.fromhex("2b6570")))
            return pem("PRIVATE KEY", der_seq(der_int(0), alg, inner))
        alg = der_seq(der(0x06, bytes.fromhex("2a864886f70d010101")), der(0x05, b""))
        return pem("PRIVATE KEY", der_seq(der_int(0), alg, der(0x04, rsa_der(rnd, RSA_BITS))))
    if kind == "ec-private-key":
        oid = der(0xA0, der(0x06, bytes.fromhex("2a8648ce3d030107")))
        pub = der(0xA1, der(0x03, b"\x00\x04" + rnd.bytes(64)))
        return pem("EC PRIVATE KEY", der_seq(der_int(1), der(0x04, rnd.bytes(32)), oid, pub))
    if kind == "openssh-private-key":
        return openssh_ed25519(rnd, rnd.choice(["deploy@ci", "jenkins@build-01", "ops@bastion", "git@deploy"]))[0]
    if kind == "dsa-private-key":
        p, q = rnd.r.getrandbits(1024) | (1 << 1023) | 1, rnd.r.getrandbits(160) | (1 << 159) | 1
        g, y, x = rnd.r.getrandbits(1023), rnd.r.getrandbits(1023), rnd.r.getrandbits(159)
        return pem("DSA PRIVATE KEY", der_seq(*(der_int(v) for v in (0, p, q, g, y, x))))
    if kind == "pgp-private-key":
        return pgp_private(rnd)
    raise ValueError(kind)


# ----------------------------------------------------------------------------- secret kinds
# Each: kind -> (family, generator(rnd) -> value, key-name words)

WORDS = ["alpha", "bravo", "cobalt", "delta", "ember", "falcon", "granite", "harbor", "indigo",
         "juniper", "kestrel", "lumen", "meadow", "nectar", "orbit", "pylon", "quartz", "raven",
         "sierra", "tundra", "umber", "vortex", "willow", "xenon", "yarrow", "zephyr"]
HOSTS = ["db.internal", "pg-primary.prod.svc", "mysql-01.corp.example.net", "10.0.3.17",
         "orders-db.cluster-c9x.eu-west-1.rds.amazonaws.com", "mongo-0.mongo.data.svc", "redis.cache.local"]


def strong_password(rnd):
    style = rnd.randint(0, 3)
    if style == 0:
        return rnd.s(ALNUM + "!@#%^&*-_", rnd.randint(14, 24))
    if style == 1:
        return rnd.choice(WORDS).capitalize() + rnd.s(string.digits, 4) + rnd.choice("!#$%&*") + rnd.choice(WORDS)
    if style == 2:
        return rnd.s(ALNUM, rnd.randint(20, 32))
    return rnd.s(string.ascii_letters, 6) + rnd.choice("!@#") + rnd.s(string.digits, 3) + rnd.s(ALNUM, 6)


def jwt(rnd):
    def enc(o):
        return base64.urlsafe_b64encode(json.dumps(o, separators=(",", ":")).encode()).decode().rstrip("=")
    head = enc({"alg": rnd.choice(["HS256", "RS256"]), "typ": "JWT"})
    iat = 1700000000 + rnd.randint(0, 40000000)
    body = enc({"sub": rnd.uuid(), "iss": f"https://auth.{rnd.choice(WORDS)}.io", "iat": iat,
                "exp": iat + 315360000, "scope": rnd.choice(["admin", "svc:deploy", "read write"])})
    sig = base64.urlsafe_b64encode(rnd.bytes(32 if head.startswith("eyJhbGciOiJIUzI1") else 256)).decode().rstrip("=")
    return f"{head}.{body}.{sig}"


def db_uri(rnd):
    user = rnd.choice(["app", "svc_orders", "admin", "billing", "reporter"])
    pw = rnd.s(ALNUM, rnd.randint(12, 24))
    host = rnd.choice(HOSTS)
    db = rnd.choice(["orders", "app", "billing", "analytics", "users"])
    scheme = rnd.choice(["postgres", "postgresql", "mysql", "mongodb", "mongodb+srv", "redis", "amqp", "mssql"])
    if scheme == "redis":
        return f"redis://:{pw}@{host}:6379/0"
    if scheme == "amqp":
        return f"amqp://{user}:{pw}@{host}:5672/%2f"
    if scheme == "mongodb+srv":
        return f"mongodb+srv://{user}:{pw}@cluster0.{rnd.s(string.ascii_lowercase + string.digits, 5)}.mongodb.net/{db}?retryWrites=true"
    port = {"postgres": 5432, "postgresql": 5432, "mysql": 3306, "mongodb": 27017, "mssql": 1433}[scheme]
    return f"{scheme}://{user}:{pw}@{host}:{port}/{db}"


def jdbc(rnd):
    pw = strong_password(rnd).replace(";", "").replace("&", "")
    host = rnd.choice(HOSTS)
    style = rnd.randint(0, 2)
    if style == 0:
        return f"jdbc:postgresql://{host}:5432/app?user=app&password={pw}&ssl=true"
    if style == 1:
        return f"jdbc:sqlserver://{host}:1433;databaseName=Orders;user=sa;password={pw};encrypt=true"
    return f"jdbc:mysql://{host}:3306/shop?user=root&password={pw}&useSSL=false"


def adonet(rnd):
    pw = strong_password(rnd).replace(";", "").replace('"', "")
    host = rnd.choice(HOSTS)
    return rnd.choice([
        f"Server={host};Database=Orders;User Id=sa;Password={pw};TrustServerCertificate=True;",
        f"Data Source={host},1433;Initial Catalog=Billing;User ID=billing_app;Password={pw};Encrypt=True",
        f"Host={host};Port=5432;Database=app;Username=app;Password={pw}",
    ])


def uri_creds(rnd):
    user = rnd.choice(["deploy", "ci-bot", "admin", "jenkins"])
    pw = rnd.s(ALNUM, rnd.randint(14, 22))
    return rnd.choice([f"https://{user}:{pw}@nexus.{rnd.choice(WORDS)}.corp/repository/maven-releases/",
                       f"ftp://{user}:{pw}@files.{rnd.choice(WORDS)}.net/upload",
                       f"https://{user}:{pw}@artifactory.{rnd.choice(WORDS)}.io/artifactory/api/pypi/simple",
                       f"smtp://{user}:{pw}@smtp.{rnd.choice(WORDS)}.com:587"])


KINDS = {
    # cloud
    "aws-access-key-pair": ("cloud", None, ["aws"]),  # rendered as two lines, see aws_pair
    "gcp-api-key": ("cloud", lambda r: "AIza" + r.s(URLSAFE, 35), ["google", "api", "key"]),
    "gcp-service-account": ("cloud", None, ["gcp", "credentials"]),
    "azure-storage-key": ("cloud", lambda r: f"DefaultEndpointsProtocol=https;AccountName={r.choice(WORDS)}store{r.randint(1, 99)};AccountKey={base64.b64encode(r.bytes(64)).decode()};EndpointSuffix=core.windows.net", ["azure", "storage", "connection", "string"]),
    "azure-ad-client-secret": ("cloud", lambda r: r.s(ALNUM, 3) + str(r.randint(0, 9)) + "Q~" + r.s(ALNUM + "_~.-", 34), ["azure", "client", "secret"]),
    "digitalocean-token": ("cloud", lambda r: "dop_v1_" + r.s(HEX, 64), ["digitalocean", "token"]),
    "alibaba-access-key": ("cloud", lambda r: "LTAI" + r.s(ALNUM, 20), ["alibaba", "access", "key", "id"]),
    "hashicorp-vault-token": ("cloud", lambda r: "hvs." + r.s(URLSAFE, 90), ["vault", "token"]),
    "terraform-cloud-token": ("cloud", lambda r: r.s(ALNUM, 14) + ".atlasv1." + r.s(ALNUM, 67), ["tfe", "token"]),
    # vcs
    "github-pat-classic": ("vcs", lambda r: gh_style("ghp_", r), ["github", "token"]),
    "github-oauth": ("vcs", lambda r: gh_style("gho_", r), ["gh", "oauth", "token"]),
    "github-app-token": ("vcs", lambda r: gh_style(r.choice(["ghs_", "ghu_"]), r), ["github", "app", "token"]),
    "github-refresh-token": ("vcs", lambda r: gh_style("ghr_", r), ["github", "refresh", "token"]),
    "github-fine-grained-pat": ("vcs", lambda r: "github_pat_11" + r.s(string.ascii_uppercase + string.digits, 20) + "_" + r.s(ALNUM, 59), ["gh", "pat"]),
    "gitlab-pat": ("vcs", lambda r: "glpat-" + r.s(URLSAFE, 20), ["gitlab", "token"]),
    "bitbucket-app-password": ("vcs", lambda r: "ATBB" + r.s(ALNUM, 32), ["bitbucket", "app", "password"]),
    # ci
    "circleci-token": ("ci", lambda r: "CCIPAT_" + r.s(ALNUM, 22) + "_" + r.s(HEX, 40), ["circle", "token"]),
    "buildkite-token": ("ci", lambda r: "bkua_" + r.s(HEX, 40), ["buildkite", "api", "token"]),
    # payment
    "stripe-secret-key": ("payment", lambda r: "sk_live_" + r.s(ALNUM, r.choice([24, 99])), ["stripe", "secret", "key"]),
    "stripe-restricted-key": ("payment", lambda r: "rk_live_" + r.s(ALNUM, r.choice([24, 99])), ["stripe", "restricted", "key"]),
    "square-access-token": ("payment", lambda r: "EAAA" + r.s(URLSAFE, 60), ["square", "access", "token"]),
    "shopify-access-token": ("payment", lambda r: "shpat_" + r.s(HEX, 32), ["shopify", "token"]),
    # messaging
    "slack-webhook": ("messaging", lambda r: f"https://hooks.slack.com/services/T{r.s(string.ascii_uppercase + string.digits, 10)}/B{r.s(string.ascii_uppercase + string.digits, 10)}/{r.s(ALNUM, 24)}", ["slack", "webhook", "url"]),
    "slack-bot-token": ("messaging", lambda r: f"xoxb-{r.s(string.digits, 12)}-{r.s(string.digits, 13)}-{r.s(ALNUM, 24)}", ["slack", "bot", "token"]),
    "discord-webhook": ("messaging", lambda r: f"https://discord.com/api/webhooks/{r.s(string.digits, 19)}/{r.s(URLSAFE, 68)}", ["discord", "webhook"]),
    "telegram-bot-token": ("messaging", lambda r: f"{r.randint(100000000, 9999999999)}:AA{r.s(URLSAFE, 33)}", ["telegram", "bot", "token"]),
    "twilio-api-key": ("messaging", lambda r: "SK" + r.s(HEX, 32), ["twilio", "api", "key"]),
    "sendgrid-api-key": ("messaging", lambda r: "SG." + r.s(URLSAFE, 22) + "." + r.s(URLSAFE, 43), ["sendgrid", "api", "key"]),
    "mailgun-api-key": ("messaging", lambda r: "key-" + r.s(HEX, 32), ["mailgun", "api", "key"]),
    # ai
    "openai-project-key": ("ai", lambda r: "sk-proj-" + r.s(URLSAFE, 74) + "T3BlbkFJ" + r.s(URLSAFE, 74), ["openai", "api", "key"]),
    "openai-legacy-key": ("ai", lambda r: "sk-" + r.s(ALNUM, 20) + "T3BlbkFJ" + r.s(ALNUM, 20), ["openai", "key"]),
    "anthropic-api-key": ("ai", lambda r: "sk-ant-api03-" + r.s(URLSAFE, 93) + "AA", ["anthropic", "api", "key"]),
    "huggingface-token": ("ai", lambda r: "hf_" + r.s(string.ascii_letters, 34), ["hf", "token"]),
    "groq-api-key": ("ai", lambda r: "gsk_" + r.s(ALNUM, 52), ["groq", "api", "key"]),
    "replicate-token": ("ai", lambda r: "r8_" + r.s(ALNUM, 37), ["replicate", "api", "token"]),
    # package registries
    "npm-token": ("package-registry", lambda r: gh_style("npm_", r), ["npm", "token"]),
    "pypi-token": ("package-registry", lambda r: "pypi-AgEIcHlwaS5vcmc" + r.s(URLSAFE, 70), ["pypi", "token"]),
    "rubygems-token": ("package-registry", lambda r: "rubygems_" + r.s(HEX, 48), ["gem", "host", "api", "key"]),
    "nuget-api-key": ("package-registry", lambda r: "oy2" + r.s(string.ascii_lowercase + string.digits, 43), ["nuget", "api", "key"]),
    "cratesio-token": ("package-registry", lambda r: "cio" + r.s(ALNUM, 32), ["cargo", "registry", "token"]),
    "dockerhub-pat": ("package-registry", lambda r: "dckr_pat_" + r.s(URLSAFE, 27), ["docker", "hub", "token"]),
    # monitoring / saas
    "grafana-service-account-token": ("monitoring", lambda r: "glsa_" + r.s(ALNUM, 32) + "_" + r.s(HEX, 8), ["grafana", "token"]),
    "newrelic-user-key": ("monitoring", lambda r: "NRAK-" + r.s(string.ascii_uppercase + string.digits, 27), ["new", "relic", "api", "key"]),
    "sentry-auth-token": ("monitoring", lambda r: "sntrys_" + base64.b64encode(json.dumps({"iat": 1.7e9, "url": "https://sentry.io", "org": r.choice(WORDS)}).encode()).decode().rstrip("=") + "_" + r.s(URLSAFE, 43), ["sentry", "auth", "token"]),
    "postman-api-key": ("saas", lambda r: "PMAK-" + r.s(HEX, 24) + "-" + r.s(HEX, 34), ["postman", "api", "key"]),
    "linear-api-key": ("saas", lambda r: "lin_api_" + r.s(ALNUM, 40), ["linear", "api", "key"]),
    "atlassian-api-token": ("saas", lambda r: "ATATT3xFfGF0" + r.s(URLSAFE, 170) + "=" + r.s(HEX.upper(), 8), ["jira", "api", "token"]),
    "doppler-token": ("saas", lambda r: "dp.st.prd." + r.s(ALNUM, 40), ["doppler", "token"]),
    "pulumi-token": ("saas", lambda r: "pul-" + r.s(HEX, 40), ["pulumi", "access", "token"]),
    # databases / connection strings
    "database-uri": ("database", db_uri, ["database", "url"]),
    "jdbc-connection-string": ("database", jdbc, ["jdbc", "url"]),
    "adonet-connection-string": ("database", adonet, ["connection", "string"]),
    "uri-with-credentials": ("database", uri_creds, ["repository", "url"]),
    # private keys
    "rsa-private-key": ("private-key", lambda r: private_key(r, "rsa-private-key"), ["private", "key"]),
    "pkcs8-private-key": ("private-key", lambda r: private_key(r, "pkcs8-private-key"), ["signing", "key"]),
    "ec-private-key": ("private-key", lambda r: private_key(r, "ec-private-key"), ["ec", "private", "key"]),
    "openssh-private-key": ("private-key", lambda r: private_key(r, "openssh-private-key"), ["ssh", "private", "key"]),
    "dsa-private-key": ("private-key", lambda r: private_key(r, "dsa-private-key"), ["dsa", "key"]),
    "pgp-private-key": ("private-key", lambda r: private_key(r, "pgp-private-key"), ["gpg", "private", "key"]),
    "age-secret-key": ("private-key", age_key, ["age", "identity"]),
    # tokens
    "jwt": ("jwt", jwt, ["auth", "token"]),
    "coffer-service-token": ("coffer", coffer_token, ["coffer", "token"]),
    "coffer-batch-token": ("coffer", coffer_batch_token, ["coffer", "batch", "token"]),
    # generic
    "generic-password": ("generic-password", strong_password, None),
    "generic-secret-key": ("generic-password", lambda r: r.s(ALNUM + "!@#%^&*(-_=+)", 50), None),
}

GENERIC_KEYS = [["password"], ["db", "password"], ["admin", "password"], ["database", "password"],
                ["smtp", "password"], ["passwd"], ["pwd"], ["client", "secret"], ["api", "secret"],
                ["secret", "key"], ["auth", "token"], ["encryption", "key"], ["signing", "secret"],
                ["redis", "password"], ["ldap", "bind", "password"], ["keystore", "password"],
                ["api", "key"], ["access", "token"], ["master", "password"], ["webhook", "secret"]]

# ----------------------------------------------------------------------------- hard negatives
# Each: kind -> generator(rnd) -> (value, key-name words)

GH_OAUTH_CLIENT = lambda r: "Iv1." + r.s(HEX, 16)  # noqa: E731


def neg_value(rnd, kind):
    pwkey = rnd.choice(GENERIC_KEYS)
    if kind == "aws-example-key":
        return rnd.choice(["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]), ["aws", "access", "key", "id"]
    if kind == "placeholder-shell":
        return rnd.choice(["${DB_PASSWORD}", "${API_TOKEN}", "$SECRET_KEY", "${GITHUB_TOKEN:-}", "%(DB_PASS)s"]), pwkey
    if kind == "placeholder-helm":
        return rnd.choice(["{{ .Values.db.password }}", "{{ .Values.secrets.apiKey | b64enc }}", "{{ required \"token\" .Values.token }}"]), pwkey
    if kind == "placeholder-gha":
        return rnd.choice(["${{ secrets.NPM_TOKEN }}", "${{ secrets.AWS_SECRET_ACCESS_KEY }}", "${{ secrets.GITHUB_TOKEN }}"]), pwkey
    if kind == "placeholder-text":
        return rnd.choice(["<your-token>", "<YOUR_API_KEY>", "changeme", "CHANGEME", "xxxxxxxxxxxxxxxxxxxx",
                           "REPLACE_ME", "your-api-key-here", "********", "TODO", "password", "secret",
                           "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                           "<insert-password>", "dummy", "example"]), pwkey
    if kind == "env-lookup":
        return rnd.choice(['os.environ["DB_PASSWORD"]', "process.env.API_TOKEN", 'os.Getenv("SECRET_KEY")',
                           'System.getenv("DB_PASSWORD")', 'Environment.GetEnvironmentVariable("API_KEY")']), pwkey
    if kind == "publishable-key":
        return rnd.choice(["pk_live_", "pk_test_"]) + rnd.s(ALNUM, rnd.choice([24, 99])), ["stripe", "publishable", "key"]
    if kind == "oauth-client-id":
        if rnd.random() < 0.5:
            return f"{rnd.s(string.digits, 12)}-{rnd.s(string.ascii_lowercase + string.digits, 32)}.apps.googleusercontent.com", ["google", "client", "id"]
        return GH_OAUTH_CLIENT(rnd), ["github", "client", "id"]
    if kind == "hash-hex":
        n = rnd.choice([32, 40, 64])
        return rnd.s(HEX, n), rnd.choice([["checksum"], ["sha256"], ["etag"], ["digest"], ["commit", "sha"], ["content", "hash"]])
    if kind == "bcrypt-hash":
        return "$2b$12$" + rnd.s(ALNUM + "./", 53), ["password", "hash"]
    if kind == "uuid":
        return rnd.uuid(), rnd.choice([["request", "id"], ["tenant", "id"], ["trace", "id"], ["client", "id"], ["subscription", "id"]])
    if kind == "sops-encrypted":
        data = base64.b64encode(rnd.bytes(rnd.randint(12, 40))).decode()
        return (f"ENC[AES256_GCM,data:{data},iv:{base64.b64encode(rnd.bytes(32)).decode()},"
                f"tag:{base64.b64encode(rnd.bytes(16)).decode()},type:str]"), pwkey
    if kind == "invalid-checksum-token":
        tok = rnd.choice([lambda: gh_style("ghp_", rnd), lambda: gh_style("npm_", rnd), lambda: coffer_token(rnd)])()
        return corrupt_checksum(tok), ["token"]
    if kind == "jwt-example":
        return ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
                "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"), ["example", "token"]
    if kind == "test-random-id":
        return rnd.s(rnd.choice([HEX, ALNUM]), rnd.choice([24, 32, 40])), rnd.choice([["fixture", "id"], ["nonce"], ["idempotency", "key"], ["cache", "key"], ["build", "id"]])
    if kind == "uri-no-password":
        return rnd.choice([f"postgres://app@{rnd.choice(HOSTS)}:5432/app", f"postgres://app:${{DB_PASSWORD}}@{rnd.choice(HOSTS)}/app",
                           "mysql://root:<password>@localhost:3306/shop", f"https://{rnd.choice(WORDS)}.example.com/api/v2",
                           "redis://redis:6379/0"]), ["database", "url"]
    raise ValueError(kind)


NEG_INLINE = ["aws-example-key", "placeholder-shell", "placeholder-helm", "placeholder-gha", "placeholder-text",
              "env-lookup", "publishable-key", "oauth-client-id", "hash-hex", "bcrypt-hash", "uuid",
              "sops-encrypted", "invalid-checksum-token", "jwt-example", "test-random-id", "uri-no-password"]

# ----------------------------------------------------------------------------- syntaxes


def style_key(words, style):
    if style == "UPPER":
        return "_".join(words).upper()
    if style == "snake":
        return "_".join(words)
    if style == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    if style == "Pascal":
        return "".join(w.capitalize() for w in words)
    if style == "dotted":
        return ".".join(words)
    if style == "kebab":
        return "-".join(words)
    raise ValueError(style)


def esc_nl(v):
    return v.replace("\n", "\\n")


# Each syntax: (file extension / names, key style, assign(key, value) -> list of lines, comment prefix)
def a_env(k, v):
    return [f'{k}="{esc_nl(v)}"' if "\n" in v or " " in v else f"{k}={v}"]


def a_yaml(k, v, indent=""):
    if "\n" in v:
        return [f"{indent}{k}: |"] + [f"{indent}  {ln}" for ln in v.split("\n")]
    q = '"' if any(c in v for c in ":#{}[]&*!|>%@`,") or v.startswith("$") else ""
    if q:
        v = v.replace("\\", "\\\\").replace('"', '\\"')
    return [f"{indent}{k}: {q}{v}{q}"]


def a_json(k, v):
    return [f'  "{k}": {json.dumps(v)},']


def a_toml(k, v):
    return [f"{k} = {json.dumps(v)}"]


def a_props(k, v):
    return [f"{k}={esc_nl(v)}"]


def a_ini(k, v):
    return [f"{k} = {esc_nl(v)}"]


def a_tf(k, v):
    if "\n" in v:
        return [f"{k} = <<EOT"] + v.split("\n") + ["EOT"]
    return [f"{k} = {json.dumps(v)}"]


def a_docker(k, v):
    return [f"ENV {k}={json.dumps(v) if ' ' in v else v}"]


def a_sh(k, v):
    if "\n" in v:
        lines = v.split("\n")
        return [f'export {k}="{lines[0]}'] + lines[1:-1] + [lines[-1] + '"']
    return [f"export {k}='{v}'"]


def a_py(k, v):
    if "\n" in v:
        lines = v.split("\n")
        return [f'{k} = """{lines[0]}'] + lines[1:-1] + [lines[-1] + '"""']
    return [f"{k} = {json.dumps(v)}"]


def a_js(k, v):
    if "\n" in v:
        lines = v.split("\n")
        return [f"const {k} = `{lines[0]}"] + lines[1:-1] + [lines[-1] + "`;"]
    return [f"const {k} = {json.dumps(v)};"]


def a_go(k, v):
    if "\n" in v:
        lines = v.split("\n")
        return [f"\t{k} = `{lines[0]}"] + lines[1:-1] + [lines[-1] + "`"]
    return [f"\t{k} = {json.dumps(v)}"]


def a_java(k, v):
    return [f"    private static final String {k} = {json.dumps(v)};"]


def a_cs(k, v):
    return [f"        private const string {k} = {json.dumps(v)};"]


def a_xml(k, v):
    v = v.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    if "\n" in v:
        lines = v.split("\n")
        return [f"    <{k}>{lines[0]}"] + lines[1:-1] + [f"{lines[-1]}</{k}>"]
    return [f'    <add key="{k}" value="{v}" />'] if len(k) % 2 else [f"    <{k}>{v}</{k}>"]


def a_k8s(k, v):
    v = esc_nl(v).replace('"', '\\"')
    return [f"            - name: {k}", f'              value: "{v}"']


SYNTAX = {
    "env": (["config/.env", ".env", ".env.production", "deploy/app.env", ".env.local"], "UPPER", a_env, "#"),
    "yaml": (["config/settings.yaml", "config/application.yml", "values.yaml", "deploy/config.yml"], "snake", a_yaml, "#"),
    "k8s": (["k8s/deployment.yaml", "manifests/worker.yaml", "charts/api/templates/deployment.yaml"], "UPPER", a_k8s, "#"),
    "json": (["config/default.json", "appsettings.json", "config/production.json", "secrets.json"], "camel", a_json, None),
    "toml": (["config.toml", "settings/prod.toml", "pyproject-local.toml"], "snake", a_toml, "#"),
    "props": (["src/main/resources/application.properties", "conf/app.properties", "gradle.properties"], "dotted", a_props, "#"),
    "ini": (["config.ini", "setup.cfg", "conf/service.ini", "alembic.ini"], "snake", a_ini, ";"),
    "tfvars": (["terraform/prod.tfvars", "infra/terraform.tfvars", "envs/staging.auto.tfvars"], "snake", a_tf, "#"),
    "docker": (["Dockerfile", "docker/Dockerfile.worker", "build/Dockerfile"], "UPPER", a_docker, "#"),
    "sh": (["scripts/deploy.sh", "bin/bootstrap.sh", "ci/release.sh", "tools/sync.sh"], "UPPER", a_sh, "#"),
    "py": (["app/settings.py", "src/config.py", "tests/conftest.py", "scripts/migrate.py"], "UPPER", a_py, "#"),
    "js": (["src/config.js", "server/index.js", "lib/client.ts", "config/keys.js"], "camel", a_js, "//"),
    "go": (["internal/config/config.go", "cmd/server/main.go", "pkg/client/client.go"], "camel", a_go, "//"),
    "java": (["src/main/java/com/acme/Config.java", "src/main/java/com/acme/billing/Client.java"], "UPPER", a_java, "//"),
    "cs": (["src/Acme.Api/Settings.cs", "Services/PaymentService.cs"], "Pascal", a_cs, "//"),
    "xml": (["App.config", "Web.config", "conf/settings.xml"], "Pascal", a_xml, None),
}
# Syntaxes in which a multi-line value (a PEM block) is written with real newlines or escaped.
MULTILINE_OK = {"env", "yaml", "json", "toml", "props", "ini", "tfvars", "sh", "py", "js", "go", "java", "cs", "xml", "k8s"}

FILLER_KEYS = [["log", "level"], ["port"], ["host"], ["timeout", "seconds"], ["max", "connections"], ["region"],
               ["feature", "new", "checkout"], ["cache", "ttl"], ["service", "name"], ["retry", "count"],
               ["metrics", "enabled"], ["base", "url"], ["worker", "threads"], ["queue", "name"], ["bucket"],
               ["environment"], ["debug"], ["tls", "enabled"], ["page", "size"], ["user", "agent"], ["username"],
               ["db", "name"], ["db", "user"], ["smtp", "host"], ["sentry", "environment"], ["locale"]]


def filler_value(rnd, words):
    w = words[-1]
    if w in ("port",):
        return str(rnd.choice([80, 443, 5432, 6379, 8080, 9090]))
    if w in ("seconds", "ttl", "count", "connections", "threads", "size"):
        return str(rnd.randint(1, 600))
    if w in ("enabled", "debug", "checkout"):
        return rnd.choice(["true", "false"])
    if w in ("host",):
        return rnd.choice(HOSTS)
    if w == "url":
        return f"https://api.{rnd.choice(WORDS)}.example.com/v{rnd.randint(1, 3)}"
    if w == "level":
        return rnd.choice(["info", "debug", "warn"])
    if w == "region":
        return rnd.choice(["eu-west-1", "us-east-1", "ap-southeast-2"])
    return rnd.choice(WORDS) + ("-" + rnd.choice(WORDS) if rnd.random() < 0.5 else "")


CODE_FILLER = {
    "py": ["def handler(event, context):", "    logger.info('processing %s', event.get('id'))", "    return {'statusCode': 200}",
           "", "class Settings(BaseSettings):", "    model_config = SettingsConfigDict(env_file='.env')",
           "import logging", "logger = logging.getLogger(__name__)", "TIMEOUT = 30", "RETRIES = 3",
           "def connect(url: str) -> Engine:", "    return create_engine(url, pool_pre_ping=True)"],
    "js": ["import express from 'express';", "const app = express();", "app.use(express.json());",
           "export function retry(fn, n = 3) {", "  return fn().catch((e) => (n ? retry(fn, n - 1) : Promise.reject(e)));", "}",
           "module.exports = { timeout: 3000 };", "// TODO: move to config service", "const PORT = process.env.PORT || 8080;"],
    "go": ["\t// Config values loaded at startup.", "\tdefaultTimeout = 30 * time.Second", "\tretries = 3",
           "\tlogger = log.New(os.Stderr, \"api \", log.LstdFlags)"],
    "java": ["package com.acme;", "import java.util.Map;", "public final class Config {", "    private final int timeout = 30;",
             "    public Map<String, String> asMap() { return Map.of(); }", "    // loaded once at startup", "}"],
    "cs": ["using System;", "namespace Acme.Api", "{", "    public class Settings", "    {",
           "        public int TimeoutSeconds { get; set; } = 30;", "    }", "}"],
    "sh": ["#!/usr/bin/env bash", "set -euo pipefail", 'cd "$(dirname "$0")/.."', "echo \"deploying $SERVICE\"",
           "kubectl apply -f k8s/", "docker build -t acme/api:latest .", "if [ -z \"${CI:-}\" ]; then", "  echo local", "fi"],
    "docker": ["FROM python:3.12-slim", "WORKDIR /app", "COPY requirements.txt .", "RUN pip install -r requirements.txt",
               "COPY . .", "EXPOSE 8080", 'CMD ["gunicorn", "app:app"]'],
}


def render_filler(rnd, syn, n):
    lines = []
    fn = SYNTAX[syn][2]
    style = SYNTAX[syn][1]
    for _ in range(n):
        if syn in CODE_FILLER and rnd.random() < 0.6:
            lines.append(rnd.choice(CODE_FILLER[syn]))
            continue
        words = rnd.choice(FILLER_KEYS)
        lines.extend(fn(style_key(words, style), filler_value(rnd, words)))
    return lines


def wrap_file(syn, body):
    """Header/footer so files parse like the real thing."""
    if syn == "json":
        if body:
            body[-1] = body[-1].rstrip(",")
        return ["{"] + body + ["}"]
    if syn == "k8s":
        head = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: api", "spec:", "  template:", "    spec:",
                "      containers:", "        - name: api", "          image: acme/api:1.4.2", "          env:"]
        return head + [ln if ln.startswith("            ") else "            # " + ln.strip() for ln in body]
    if syn == "xml":
        return ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <appSettings>"] + body + ["  </appSettings>", "</configuration>"]
    if syn == "ini":
        return ["[default]"] + body
    if syn == "java":
        return ["package com.acme;", "", "public final class Secrets {"] + body + ["}"]
    if syn == "cs":
        return ["namespace Acme.Api", "{", "    public static class Keys", "    {"] + body + ["    }", "}"]
    if syn == "go":
        return ["package config", "", "var ("] + body + [")"]
    return body


# ----------------------------------------------------------------------------- corpus builder


class Corpus:
    def __init__(self, root, rnd):
        self.root = root
        self.rnd = rnd
        self.labels = []
        self.negatives = []
        self.bytes = 0
        self.used_paths = set()

    def write(self, rel, lines, items):
        """items: list of (line_index_start, line_index_end, record, is_secret)."""
        text = "\n".join(lines) + "\n"
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        self.bytes += len(text.encode())
        for start, end, rec, secret in items:
            rec = dict(rec, file=rel, line=start + 1, end_line=end + 1)
            val = rec.get("value", "")
            rec["sha256"] = hashlib.sha256(val.encode()).hexdigest()
            (self.labels if secret else self.negatives).append(rec)

    def unique(self, rel):
        base, n = rel, 1
        while rel in self.used_paths:
            d, f = os.path.split(base)
            rel = os.path.join(d, f"{n}-{f}") if not f.startswith(".") else os.path.join(d + f"-{n}", f)
            n += 1
        self.used_paths.add(rel)
        return rel


def secret_item(rnd, kind):
    family, gen, words = KINDS[kind]
    if words is None:
        words = rnd.choice(GENERIC_KEYS)
    return {"kind": kind, "family": family, "value": gen(rnd) if gen else "", "words": words}


def aws_pair(rnd):
    kid = rnd.choice(["AKIA", "ASIA"]) + rnd.s(B32.replace("1", ""), 16)
    sec = rnd.s(B64, 40)
    return kid, sec


def gen_generic_file(corp, rnd, syn, secrets, negs, project):
    names, style, fn, comment = SYNTAX[syn]
    rel = corp.unique(f"{project}/{rnd.choice(names)}")
    body, items = [], []
    blocks = [("s", x) for x in secrets] + [("n", x) for x in negs]
    rnd.shuffle(blocks)
    body.extend(render_filler(rnd, syn, rnd.randint(5, 25)))
    for tag, it in blocks:
        if comment and rnd.random() < 0.3:
            body.append(f"{comment} {rnd.choice(['production values', 'do not commit', 'rotated quarterly', 'see runbook', 'legacy'])}")
        start = len(body)
        if it["kind"] == "aws-access-key-pair":
            kid, sec = aws_pair(rnd)
            body.extend(fn(style_key(["aws", "access", "key", "id"], style), kid))
            body.extend(fn(style_key(["aws", "secret", "access", "key"], style), sec))
            rec = {"kind": "aws-access-key-pair", "family": "cloud", "value": kid + ":" + sec}
        else:
            body.extend(fn(style_key(it["words"], style), it["value"]))
            rec = {k: it[k] for k in ("kind", "family", "value") if k in it}
        items.append([start, len(body) - 1, rec, tag == "s"])
        body.extend(render_filler(rnd, syn, rnd.randint(2, 30)))
    wrapped = wrap_file(syn, body)
    offset = {"json": 1, "k8s": 11, "xml": 3, "ini": 1, "java": 3, "cs": 4, "go": 3}.get(syn, 0)
    for it in items:
        it[0] += offset
        it[1] += offset
    corp.write(rel, wrapped, [tuple(x) for x in items])


# Special files: each returns (rel_path, lines, items)

def f_aws_credentials(corp, rnd, project):
    kid, sec = aws_pair(rnd)
    ex = rnd.random() < 0.3
    lines = ["[default]", f"aws_access_key_id = {kid}", f"aws_secret_access_key = {sec}", "region = eu-west-1", ""]
    items = [(1, 2, {"kind": "aws-access-key-pair", "family": "cloud", "value": kid + ":" + sec}, True)]
    if ex:
        lines += ["[example]", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]
        items.append((6, 7, {"kind": "aws-example-key", "value": "AKIAIOSFODNN7EXAMPLE"}, False))
    corp.write(corp.unique(f"{project}/.aws/credentials"), lines, items)


def f_npmrc(corp, rnd, project):
    tok = gh_style("npm_", rnd)
    lines = ["registry=https://registry.npmjs.org/", "save-exact=true", f"//registry.npmjs.org/:_authToken={tok}",
             "//npm.pkg.github.com/:_authToken=${NPM_GITHUB_TOKEN}", "@acme:registry=https://npm.pkg.github.com"]
    items = [(2, 2, {"kind": "npm-token", "family": "package-registry", "value": tok}, True),
             (3, 3, {"kind": "placeholder-shell", "value": "${NPM_GITHUB_TOKEN}"}, False)]
    corp.write(corp.unique(f"{project}/.npmrc"), lines, items)


def f_pypirc(corp, rnd, project):
    tok = KINDS["pypi-token"][1](rnd)
    lines = ["[distutils]", "index-servers =", "    pypi", "", "[pypi]", "username = __token__", f"password = {tok}"]
    corp.write(corp.unique(f"{project}/.pypirc"), lines, [(6, 6, {"kind": "pypi-token", "family": "package-registry", "value": tok}, True)])


def f_git_credentials(corp, rnd, project):
    tok = gh_style("ghp_", rnd)
    user = rnd.choice(WORDS)
    lines = [f"https://{user}:{tok}@github.com"]
    corp.write(corp.unique(f"{project}/.git-credentials"), lines, [(0, 0, {"kind": "github-pat-classic", "family": "vcs", "value": tok}, True)])


def f_pem_file(corp, rnd, project):
    kind = rnd.choice(["rsa-private-key", "pkcs8-private-key", "ec-private-key", "openssh-private-key", "dsa-private-key", "pgp-private-key"])
    val = private_key(rnd, kind)
    name = {"openssh-private-key": rnd.choice(["deploy/id_ed25519", ".ssh/id_ed25519", "keys/ci_deploy_key"]),
            "pgp-private-key": "keys/release-signing.asc"}.get(kind, rnd.choice(["certs/server.key", "tls/tls.key", "secrets/jwt-signing.pem", "config/key.pem"]))
    lines = val.split("\n")
    corp.write(corp.unique(f"{project}/{name}"), lines, [(0, len(lines) - 1, {"kind": kind, "family": "private-key", "value": val}, True)])


def f_public_material(corp, rnd, project):
    """Hard negatives: certificate, public key, authorized_keys, doc-example PEM with elided body."""
    cert = pem("CERTIFICATE", rnd.bytes(rnd.randint(600, 900)))
    pub = pem("PUBLIC KEY", der_seq(der_seq(der(0x06, bytes.fromhex("2a864886f70d010101")), der(0x05, b"")), der(0x03, b"\x00" + rnd.bytes(270))))
    _, sshpub = openssh_ed25519(rnd, "alice@laptop")
    lines = cert.split("\n") + pub.split("\n")
    items = [(0, len(lines) - 1, {"kind": "public-certificate-or-key", "value": cert[:80]}, False)]
    corp.write(corp.unique(f"{project}/certs/ca-bundle.pem"), lines, items)
    corp.write(corp.unique(f"{project}/deploy/authorized_keys"), [sshpub, "ssh-ed25519 " + base64.b64encode(rnd.bytes(51)).decode() + " bob@ci"],
               [(0, 1, {"kind": "ssh-public-key", "value": sshpub}, False)])
    doc = ["# Configuring TLS", "", "Put your key in `tls.key`. It looks like this:", "", "```",
           "-----BEGIN RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA...", "...", "-----END RSA PRIVATE KEY-----", "```",
           "", "Never commit it. Use `coffer kv put` instead."]
    corp.write(corp.unique(f"{project}/docs/TLS.md"), doc, [(5, 8, {"kind": "doc-example-private-key", "value": "MIIEpAIBAAKCAQEA..."}, False)])


def f_gcp_sa(corp, rnd, project):
    key = private_key(rnd, "pkcs8-private-key")
    obj = {"type": "service_account", "project_id": f"{rnd.choice(WORDS)}-prod-{rnd.randint(100, 999)}",
           "private_key_id": rnd.s(HEX, 40), "private_key": key + "\n",
           "client_email": f"deployer@{rnd.choice(WORDS)}-prod.iam.gserviceaccount.com", "client_id": rnd.s(string.digits, 21),
           "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token"}
    lines = json.dumps(obj, indent=2).split("\n")
    ln = next(i for i, s in enumerate(lines) if '"private_key":' in s)
    corp.write(corp.unique(f"{project}/gcp-sa-key.json"), lines, [(ln, ln, {"kind": "gcp-service-account", "family": "cloud", "value": key}, True)])


def f_app_config(corp, rnd, project):
    cs = adonet(rnd)
    sk = KINDS["stripe-secret-key"][1](rnd)
    pk = "pk_live_" + rnd.s(ALNUM, 24)
    x = lambda v: v.replace("&", "&amp;").replace('"', "&quot;")  # noqa: E731
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <connectionStrings>",
             f'    <add name="Default" connectionString="{x(cs)}" providerName="System.Data.SqlClient" />',
             '    <add name="Reporting" connectionString="Server=reports;Database=R;Integrated Security=True;" />',
             "  </connectionStrings>", "  <appSettings>", '    <add key="Environment" value="Production" />',
             f'    <add key="StripeSecretKey" value="{sk}" />', f'    <add key="StripePublishableKey" value="{pk}" />',
             '    <add key="SmtpPassword" value="{{SMTP_PASSWORD}}" />',
             "  </appSettings>", "</configuration>"]
    items = [(3, 3, {"kind": "adonet-connection-string", "family": "database", "value": cs}, True),
             (8, 8, {"kind": "stripe-secret-key", "family": "payment", "value": sk}, True),
             (9, 9, {"kind": "publishable-key", "value": pk}, False),
             (10, 10, {"kind": "placeholder-helm", "value": "{{SMTP_PASSWORD}}"}, False)]
    corp.write(corp.unique(f"{project}/{rnd.choice(['App.config', 'Web.config'])}"), lines, items)


def f_xml_element_password(corp, rnd, project):
    pw = strong_password(rnd).replace("&", "").replace("<", "")
    lines = ['<?xml version="1.0"?>', "<settings>", "  <servers>", "    <server>", "      <id>nexus-releases</id>",
             "      <username>deployer</username>", f"      <password>{pw}</password>", "    </server>",
             "    <server>", "      <id>nexus-snapshots</id>", "      <username>deployer</username>",
             "      <password>${env.NEXUS_PASSWORD}</password>", "    </server>", "  </servers>", "</settings>"]
    corp.write(corp.unique(f"{project}/.m2/settings.xml"), lines,
               [(6, 6, {"kind": "generic-password", "family": "generic-password", "value": pw}, True),
                (11, 11, {"kind": "placeholder-shell", "value": "${env.NEXUS_PASSWORD}"}, False)])


def f_k8s_secret(corp, rnd, project):
    pw = strong_password(rnd)
    tok = KINDS[rnd.choice(["slack-bot-token", "sendgrid-api-key", "stripe-secret-key", "github-pat-classic"])]
    kind = [k for k, v in KINDS.items() if v is tok][0]
    tv = tok[1](rnd)
    b64pw = base64.b64encode(strong_password(rnd).encode()).decode()
    lines = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: api-secrets", "  namespace: prod", "type: Opaque",
             "stringData:", f"  DB_PASSWORD: \"{pw}\"", f"  API_TOKEN: {tv}", "data:", f"  REDIS_PASSWORD: {b64pw}",
             "---", "apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: api", "spec:", "  template:",
             "    spec:", "      containers:", "        - name: api", "          env:",
             "            - name: SMTP_PASSWORD", f"              value: \"{(pw2 := strong_password(rnd))}\"",
             "            - name: DB_PASSWORD", "              valueFrom:", "                secretKeyRef:",
             "                  name: api-secrets", "                  key: DB_PASSWORD",
             "            - name: HELM_TOKEN", "              value: \"{{ .Values.token }}\""]
    items = [(7, 7, {"kind": "generic-password", "family": "generic-password", "value": pw}, True),
             (8, 8, {"kind": kind, "family": KINDS[kind][0], "value": tv}, True),
             (10, 10, {"kind": "generic-password-base64", "family": "generic-password", "value": b64pw}, True),
             (22, 23, {"kind": "generic-password", "family": "generic-password", "value": pw2}, True),
             (29, 30, {"kind": "placeholder-helm", "value": "{{ .Values.token }}"}, False)]
    corp.write(corp.unique(f"{project}/k8s/secrets.yaml"), lines, items)


def f_ci_yaml(corp, rnd, project):
    tok = KINDS[rnd.choice(["dockerhub-pat", "npm-token", "cratesio-token", "sentry-auth-token"])]
    kind = [k for k, v in KINDS.items() if v is tok][0]
    tv = tok[1](rnd)
    lines = ["name: release", "on:", "  push:", "    tags: ['v*']", "jobs:", "  publish:", "    runs-on: ubuntu-latest",
             "    env:", "      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}", f"      PUBLISH_TOKEN: {tv}",
             "    steps:", "      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11",
             "      - run: make release", "        env:", "          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}"]
    items = [(8, 8, {"kind": "placeholder-gha", "value": "${{ secrets.NPM_TOKEN }}"}, False),
             (9, 9, {"kind": kind, "family": KINDS[kind][0], "value": tv}, True),
             (11, 11, {"kind": "hash-hex", "value": "b4ffde65f46336ab88eb53be808477a3936bae11"}, False),
             (14, 14, {"kind": "placeholder-gha", "value": "${{ secrets.AWS_SECRET_ACCESS_KEY }}"}, False)]
    corp.write(corp.unique(f"{project}/.github/workflows/release.yml"), lines, items)


def f_package_lock(corp, rnd, project):
    lines = ["{", '  "name": "web",', '  "lockfileVersion": 3,', '  "packages": {']
    items = []
    for i in range(rnd.randint(20, 60)):
        name = rnd.choice(WORDS) + "-" + rnd.choice(WORDS) + str(i)
        integ = "sha512-" + base64.b64encode(rnd.bytes(64)).decode()
        lines += [f'    "node_modules/{name}": {{', f'      "version": "{rnd.randint(0, 9)}.{rnd.randint(0, 20)}.{rnd.randint(0, 9)}",',
                  f'      "resolved": "https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz",', f'      "integrity": "{integ}"', "    },"]
        items.append((len(lines) - 2, len(lines) - 2, {"kind": "lockfile-integrity", "value": integ}, False))
    lines[-1] = "    }"
    lines += ["  }", "}"]
    corp.write(corp.unique(f"{project}/package-lock.json"), lines, items[:5])


def f_sops(corp, rnd, project):
    lines, items = [], []
    for words in [["db", "password"], ["api", "token"], ["stripe", "secret", "key"]]:
        v, _ = neg_value(rnd, "sops-encrypted")
        items.append((len(lines), len(lines), {"kind": "sops-encrypted", "value": v}, False))
        lines.append(f"{'_'.join(words)}: {v}")
    lines += ["sops:", "    kms: []", "    age:", f"        - recipient: age1{rnd.s(BECH, 58)}", "          enc: |",
              "            -----BEGIN AGE ENCRYPTED FILE-----", f"            {base64.b64encode(rnd.bytes(45)).decode()}",
              "            -----END AGE ENCRYPTED FILE-----", f"    lastmodified: \"2024-0{rnd.randint(1, 9)}-11T10:00:00Z\"",
              f"    mac: ENC[AES256_GCM,data:{base64.b64encode(rnd.bytes(32)).decode()},iv:{base64.b64encode(rnd.bytes(32)).decode()},tag:{base64.b64encode(rnd.bytes(16)).decode()},type:str]",
              "    version: 3.8.1"]
    corp.write(corp.unique(f"{project}/secrets.enc.yaml"), lines, items)


def f_ansible_vault(corp, rnd, project):
    blob = rnd.s(HEX, 80 * rnd.randint(4, 10))
    body = [blob[i:i + 80] for i in range(0, len(blob), 80)]
    lines = ["$ANSIBLE_VAULT;1.1;AES256"] + body
    corp.write(corp.unique(f"{project}/group_vars/prod/vault.yml"), lines, [(0, len(lines) - 1, {"kind": "ansible-vault", "value": body[0]}, False)])
    inline = ["db_host: db.internal", "db_password: !vault |", "          $ANSIBLE_VAULT;1.1;AES256"] + ["          " + b for b in body[:4]]
    corp.write(corp.unique(f"{project}/group_vars/prod/main.yml"), inline, [(1, len(inline) - 1, {"kind": "ansible-vault", "value": body[0]}, False)])


def f_base64_image(corp, rnd, project):
    img = base64.b64encode(b"\x89PNG\r\n\x1a\n" + rnd.bytes(rnd.randint(300, 1500))).decode()
    lines = [".logo {", f"  background-image: url(data:image/png;base64,{img});", "  width: 64px;", "}"]
    corp.write(corp.unique(f"{project}/static/css/site.css"), lines, [(1, 1, {"kind": "base64-image", "value": img[:64]}, False)])


def f_go_sum_cargo_lock(corp, rnd, project):
    lines, items = [], []
    for _ in range(30):
        mod = f"github.com/{rnd.choice(WORDS)}/{rnd.choice(WORDS)}"
        h = base64.b64encode(rnd.bytes(32)).decode()
        lines.append(f"{mod} v1.{rnd.randint(0, 20)}.{rnd.randint(0, 9)} h1:{h}")
        items.append((len(lines) - 1, len(lines) - 1, {"kind": "go-sum-hash", "value": h}, False))
    corp.write(corp.unique(f"{project}/go.sum"), lines, items[:5])
    lines = ["version = 4", ""]
    for _ in range(20):
        c = rnd.s(HEX, 64)
        lines += ["[[package]]", f'name = "{rnd.choice(WORDS)}"', 'version = "1.0.0"',
                  'source = "registry+https://github.com/rust-lang/crates.io-index"', f'checksum = "{c}"', ""]
    corp.write(corp.unique(f"{project}/Cargo.lock"), lines, [])


def f_test_fixtures(corp, rnd, project):
    """Unit tests full of high-entropy ids that are not secrets."""
    lines, items = ["import unittest", "import uuid", "", "class TestIds(unittest.TestCase):"], []
    for i in range(rnd.randint(6, 14)):
        v = rnd.s(rnd.choice([HEX, ALNUM]), rnd.choice([32, 40, 48]))
        lines += [f"    def test_case_{i}(self):", f"        request_id = \"{v}\"", "        self.assertEqual(len(request_id), len(request_id))"]
        items.append((len(lines) - 2, len(lines) - 2, {"kind": "test-random-id", "value": v}, False))
        u = rnd.uuid()
        lines += [f"        trace = uuid.UUID(\"{u}\")"]
        items.append((len(lines) - 1, len(lines) - 1, {"kind": "uuid", "value": u}, False))
        d = rnd.s(HEX, 64)
        lines += [f"        expected_sha256 = \"{d}\""]
        items.append((len(lines) - 1, len(lines) - 1, {"kind": "hash-hex", "value": d}, False))
    corp.write(corp.unique(f"{project}/tests/test_ids.py"), lines, items)


SPECIAL = [f_aws_credentials, f_npmrc, f_pypirc, f_git_credentials, f_pem_file, f_public_material, f_gcp_sa,
           f_app_config, f_xml_element_password, f_k8s_secret, f_ci_yaml, f_package_lock, f_sops, f_ansible_vault,
           f_base64_image, f_go_sum_cargo_lock, f_test_fixtures]

PROJECT_NAMES = ["billing-api", "orders-service", "web-frontend", "infra", "data-pipeline", "auth-gateway", "mobile-backend",
                 "ops-scripts", "reporting", "notifications", "search", "inventory", "payments", "ml-platform", "legacy-erp"]


def build_planted(root, rnd, n_files):
    corp = Corpus(root, rnd)
    kinds = [k for k in KINDS if k != "gcp-service-account"]  # that one is a special file
    n_generic = int(n_files * 0.7)
    # round-robin so that every kind appears; then shuffle placement
    secret_queue = [kinds[i % len(kinds)] for i in range(int(n_generic * 1.6))]
    neg_queue = [NEG_INLINE[i % len(NEG_INLINE)] for i in range(int(n_generic * 1.3))]
    rnd.shuffle(secret_queue)
    rnd.shuffle(neg_queue)
    syns = list(SYNTAX)
    for i in range(n_generic):
        project = f"planted/{PROJECT_NAMES[i % len(PROJECT_NAMES)]}-{i // len(PROJECT_NAMES):03d}"
        syn = syns[i % len(syns)]
        ns, nn = rnd.randint(0, 3), rnd.randint(0, 3)
        secrets, negs = [], []
        for _ in range(ns):
            if not secret_queue:
                break
            k = secret_queue.pop()
            it = secret_item(rnd, k)
            if "\n" in it["value"] and syn not in MULTILINE_OK:
                secret_queue.insert(0, k)
                continue
            secrets.append(it)
        for _ in range(nn):
            if not neg_queue:
                break
            k = neg_queue.pop()
            v, words = neg_value(rnd, k)
            negs.append({"kind": k, "value": v, "words": words})
        gen_generic_file(corp, rnd, syn, secrets, negs, project)
    # leftovers (multi-line values that were deferred) go into YAML files
    while secret_queue:
        chunk = [secret_item(rnd, secret_queue.pop()) for _ in range(min(3, len(secret_queue)))]
        gen_generic_file(corp, rnd, "yaml", chunk, [], f"planted/leftovers-{len(corp.used_paths):04d}")
    for i in range(n_files - n_generic):
        project = f"planted/{PROJECT_NAMES[(i * 7) % len(PROJECT_NAMES)]}-{i // len(PROJECT_NAMES):03d}"
        SPECIAL[i % len(SPECIAL)](corp, rnd, project)
    return corp


# ----------------------------------------------------------------------------- background

ARCHIVE_EXT = (".gz", ".tgz", ".zip", ".xz", ".bz2", ".zst", ".crate", ".tar", ".7z", ".jar", ".whl")
PEM_RE = re.compile(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?)-----")
B64LINE = re.compile(r"^[\s\"'#/*!]*([A-Za-z0-9+/=]{4,}?)(?:\\[rn])*[\s\"',;)]*$")


def is_text(data):
    if b"\0" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def registry_roots():
    base = os.path.expanduser("~/.cargo/registry/src")
    if not os.path.isdir(base):
        return []
    return sorted(os.path.join(base, d) for d in os.listdir(base))


def build_background(root, rnd, budget, max_file=4 * MB):
    crates = []
    for reg in registry_roots():
        for c in sorted(os.listdir(reg)):
            if os.path.isdir(os.path.join(reg, c)):
                crates.append((c, os.path.join(reg, c)))
    crates.sort()
    rnd.shuffle(crates)
    used, chosen, digest = 0, [], hashlib.sha256()
    seen = set()
    for name, path in crates:
        if used >= budget:
            break
        if name in seen:
            continue
        seen.add(name)
        files = []
        for dp, dns, fns in os.walk(path):
            dns.sort()
            for fn in sorted(fns):
                files.append(os.path.join(dp, fn))
        files.sort()
        took = 0
        for src in files:
            if used >= budget:
                break
            if src.endswith(ARCHIVE_EXT) or os.path.islink(src):
                continue
            try:
                size = os.path.getsize(src)
                if size == 0 or size > max_file:
                    continue
                with open(src, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if not is_text(data):
                continue
            rel = os.path.join("vendor", name, os.path.relpath(src, path))
            dst = os.path.join(root, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as f:
                f.write(data)
            used += len(data)
            took += 1
            digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        if took:
            chosen.append(name)
    return used, chosen, digest.hexdigest()


def label_background_keys(root):
    """Complete private-key blocks shipped in crates' test fixtures are real secrets-in-code."""
    labels, ignored = [], []
    vroot = os.path.join(root, "vendor")
    for dp, dns, fns in os.walk(vroot):
        dns.sort()
        for fn in sorted(fns):
            p = os.path.join(dp, fn)
            with open(p, "rb") as f:
                data = f.read()
            if b"PRIVATE KEY" not in data:
                continue
            lines = data.decode("utf-8").split("\n")
            rel = os.path.relpath(p, root)
            i = 0
            while i < len(lines):
                m = PEM_RE.search(lines[i])
                if not m:
                    i += 1
                    continue
                label = m.group(1)
                end_marker = f"-----END {label}-----"
                j, body, elided, encrypted = i + 1, 0, False, label.startswith("ENCRYPTED")
                while j < len(lines) and j - i < 400 and end_marker not in lines[j]:
                    m2 = B64LINE.match(lines[j])
                    if m2:
                        body += len(m2.group(1))
                    elided |= "..." in lines[j]
                    encrypted |= "ENCRYPTED" in lines[j]
                    j += 1
                # a complete block: END marker found, at least 40 base64 characters, nothing elided
                if j < len(lines) and end_marker in lines[j] and body >= 40 and not elided:
                    rec = {"file": rel, "line": i + 1, "end_line": j + 1, "kind": "background-" + label.lower().replace(" ", "-"),
                           "family": "private-key", "source": "background",
                           "sha256": hashlib.sha256("\n".join(lines[i:j + 1]).encode()).hexdigest()}
                    (ignored if encrypted else labels).append(rec)
                    i = j + 1
                else:
                    i += 1
    return labels, ignored


# ----------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--size-mb", type=float, default=260, help="total corpus size in MiB")
    ap.add_argument("--out", required=True)
    ap.add_argument("--planted-files", type=int, default=None, help="default: max(240, 4 per MiB)")
    args = ap.parse_args()

    tree = os.path.join(args.out, "tree")
    if os.path.exists(tree) and os.listdir(tree):
        sys.exit(f"{tree} exists and is not empty; remove it first")
    os.makedirs(tree, exist_ok=True)
    rnd = R(args.seed)
    n_files = args.planted_files or max(240, int(args.size_mb * 4))
    corp = build_planted(tree, rnd, n_files)
    budget = int(args.size_mb * MB) - corp.bytes
    bg_bytes, crates, digest = build_background(tree, R(args.seed + 1), budget)
    bg_labels, bg_ignored = label_background_keys(tree)
    total = corp.bytes + bg_bytes
    nfiles = sum(len(fs) for _, _, fs in os.walk(tree))
    for rec in corp.labels:
        rec["source"] = "planted"
    out = {
        "seed": args.seed, "size_mb": args.size_mb, "bytes": total, "files": nfiles, "root": "tree",
        "planted_bytes": corp.bytes, "background_bytes": bg_bytes, "background_crates": crates,
        "background_digest": digest,
        "labels": corp.labels + bg_labels,
        "negatives": corp.negatives,
        "ignore": [dict(r, reason="encrypted private key: neither credited nor charged") for r in bg_ignored],
    }
    with open(os.path.join(args.out, "labels.json"), "w") as f:
        json.dump(out, f, indent=1)
    fam = {}
    for r in out["labels"]:
        fam[r["family"]] = fam.get(r["family"], 0) + 1
    print(f"corpus: {total / MB:.1f} MiB in {nfiles} files ({corp.bytes / MB:.1f} MiB planted, {len(crates)} crates background)")
    print(f"labels: {len(out['labels'])} secrets ({len(bg_labels)} in background), {len(corp.negatives)} hard negatives")
    print("by family: " + ", ".join(f"{k}={v}" for k, v in sorted(fam.items())))


if __name__ == "__main__":
    main()
