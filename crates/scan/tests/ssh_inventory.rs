//! SSH inventory against real keys made by `ssh-keygen`: formats, encryption, weakness flags,
//! fingerprints equal to `ssh-keygen -lf`, `authorized_keys` options and the owner cross-reference.

use std::path::{Path, PathBuf};
use std::process::Command;

use coffer_scan::ssh::{SshInventory, Weakness, inventory};

/// Runs `ssh-keygen -q -f <dir>/<name> <args…>`; false when this ssh-keygen refuses (e.g. DSA).
fn keygen(dir: &Path, name: &str, args: &[&str]) -> bool {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-C", &format!("{name}@test"), "-f"])
        .arg(dir.join(name))
        .args(args)
        .output()
        .expect("ssh-keygen runs");
    out.status.success()
}

/// (bits, fingerprint) from `ssh-keygen -lf`.
fn keygen_fingerprint(path: &Path) -> (u32, String) {
    let out = Command::new("ssh-keygen").arg("-lf").arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut fields = text.split_whitespace();
    (
        fields.next().unwrap().parse().unwrap(),
        fields.next().unwrap().to_string(),
    )
}

fn read_pub(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_string()
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

struct Fixture {
    _dir: tempfile::TempDir,
    home: PathBuf,
    etc: PathBuf,
    elsewhere: PathBuf,
    dsa: bool,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home/alice/.ssh");
    let etc = dir.path().join("etc/ssh");
    let elsewhere = dir.path().join("elsewhere");
    for d in [&home, &etc, &elsewhere] {
        std::fs::create_dir_all(d).unwrap();
    }
    assert!(keygen(&home, "id_ed25519", &["-t", "ed25519", "-N", ""]));
    assert!(keygen(
        &home,
        "id_ed25519_enc",
        &["-t", "ed25519", "-N", "correct horse"]
    ));
    assert!(keygen(
        &home,
        "id_rsa_1024",
        &["-t", "rsa", "-b", "1024", "-N", "", "-m", "PEM"]
    ));
    assert!(keygen(
        &home,
        "id_rsa_3072",
        &["-t", "rsa", "-b", "3072", "-N", "pw-3072", "-m", "PEM"]
    ));
    assert!(keygen(
        &home,
        "id_rsa_pkcs8",
        &["-t", "rsa", "-b", "2048", "-N", "", "-m", "PKCS8"]
    ));
    assert!(keygen(&home, "id_ecdsa", &["-t", "ecdsa", "-b", "384", "-N", ""]));
    assert!(keygen(
        &home,
        "id_ecdsa_pem",
        &["-t", "ecdsa", "-b", "256", "-N", "", "-m", "PEM"]
    ));
    let dsa = keygen(&home, "id_dsa", &["-t", "dsa", "-N", ""]);
    assert!(keygen(&etc, "ssh_host_ed25519_key", &["-t", "ed25519", "-N", ""]));
    assert!(keygen(&elsewhere, "stranger", &["-t", "ed25519", "-N", ""]));
    // An encrypted PEM key without its .pub: no fingerprint can be known.
    std::fs::copy(home.join("id_rsa_3072"), elsewhere.join("lonely_rsa")).unwrap();

    let dsa_line = if dsa {
        read_pub(&home.join("id_dsa.pub"))
    } else {
        // Newer OpenSSH cannot make DSA keys; a hand-made 1024-bit `ssh-dss` key stands in.
        let mut p = vec![0u8; 129];
        p[1] = 0xb3;
        let blob = [&b"ssh-dss"[..], &p, &[0x11; 20], &[0x05; 128], &[0x07; 128]]
            .iter()
            .flat_map(|f| (f.len() as u32).to_be_bytes().into_iter().chain(f.iter().copied()))
            .collect::<Vec<u8>>();
        use base64::Engine as _;
        format!(
            "ssh-dss {} legacy@old",
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    };
    let authorized = format!(
        "# Alice's keys\n\n{}\nfrom=\"10.0.0.0/8,192.168.1.1\",command=\"/usr/bin/backup --dest \\\"/srv, daily\\\"\",no-pty,no-port-forwarding {}\n{}\nrestrict,pty {}\nssh-ed25519 !!notbase64!! broken\n  {}\n",
        read_pub(&home.join("id_ed25519.pub")),
        read_pub(&home.join("id_rsa_1024.pub")),
        read_pub(&elsewhere.join("stranger.pub")),
        read_pub(&home.join("id_ecdsa.pub")),
        dsa_line,
    );
    std::fs::write(home.join("authorized_keys"), authorized).unwrap();
    let host_pub = read_pub(&etc.join("ssh_host_ed25519_key.pub"));
    let mut host_fields = host_pub.split_whitespace();
    let known = format!(
        "server.example.com,10.1.2.3 {} {}\n@cert-authority *.corp {}\n",
        host_fields.next().unwrap(),
        host_fields.next().unwrap(),
        read_pub(&home.join("id_ecdsa.pub"))
    );
    std::fs::write(home.join("known_hosts"), known).unwrap();
    std::fs::write(home.join("config"), "Host *\n  IdentityFile ~/.ssh/id_ed25519\n").unwrap();
    Fixture {
        _dir: dir,
        home,
        etc,
        elsewhere,
        dsa,
    }
}

fn private<'a>(inv: &'a SshInventory, path: &Path) -> &'a coffer_scan::ssh::PrivateKey {
    inv.private_keys
        .iter()
        .find(|k| *k.path.0 == path_str(path))
        .unwrap_or_else(|| panic!("{path:?} not found"))
}

#[test]
fn private_keys_formats_encryption_weakness_and_fingerprints() {
    let fx = fixture();
    let inv = inventory(&[fx.home.clone(), fx.etc.clone(), fx.elsewhere.clone()]).unwrap();
    let cases: &[(&str, &str, bool, &[Weakness])] = &[
        ("id_ed25519", "openssh", false, &[Weakness::Unencrypted]),
        ("id_ed25519_enc", "openssh", true, &[]),
        (
            "id_rsa_1024",
            "pem-rsa",
            false,
            &[Weakness::ShortRsa, Weakness::Unencrypted],
        ),
        ("id_rsa_3072", "pem-rsa", true, &[]),
        ("id_rsa_pkcs8", "pkcs8", false, &[Weakness::Unencrypted]),
        ("id_ecdsa", "openssh", false, &[Weakness::Unencrypted]),
        ("id_ecdsa_pem", "pem-ec", false, &[Weakness::Unencrypted]),
    ];
    for (name, format, encrypted, weak) in cases {
        let path = fx.home.join(name);
        let key = private(&inv, &path);
        assert_eq!(
            (key.format, key.encrypted, key.weaknesses.as_slice()),
            (*format, *encrypted, *weak),
            "{name}"
        );
        let info = key.key.as_ref().unwrap_or_else(|| panic!("{name} has a fingerprint"));
        let (bits, fingerprint) = keygen_fingerprint(&fx.home.join(format!("{name}.pub")));
        assert_eq!(
            (info.bits, info.fingerprint.to_string()),
            (Some(bits), fingerprint),
            "{name}"
        );
        assert!(!key.host_key);
    }
    let enc = private(&inv, &fx.home.join("id_ed25519_enc"));
    assert_eq!(enc.cipher.as_deref(), Some("aes256-ctr"));
    assert_eq!(
        private(&inv, &fx.home.join("id_rsa_3072")).cipher.as_deref(),
        Some("AES-128-CBC")
    );
    assert_eq!(
        private(&inv, &fx.home.join("id_ed25519")).comment.as_deref(),
        Some("id_ed25519@test")
    );
    if fx.dsa {
        let dsa = private(&inv, &fx.home.join("id_dsa"));
        assert_eq!(dsa.weaknesses, [Weakness::Dsa, Weakness::Unencrypted]);
        let (bits, fingerprint) = keygen_fingerprint(&fx.home.join("id_dsa.pub"));
        assert_eq!(
            dsa.key.as_ref().map(|k| (k.bits, k.fingerprint.to_string())),
            Some((Some(bits), fingerprint))
        );
    }
    // Fingerprints computed from the private files alone match ssh-keygen reading them.
    for name in ["id_ed25519", "id_rsa_1024", "id_rsa_pkcs8", "id_ecdsa_pem"] {
        let lonely = fx.elsewhere.join(format!("copy_{name}"));
        std::fs::copy(fx.home.join(name), &lonely).unwrap();
        let inv = inventory(std::slice::from_ref(&lonely)).unwrap();
        let key = inv.private_keys[0].key.as_ref().unwrap();
        assert_eq!(
            key.fingerprint.to_string(),
            keygen_fingerprint(&fx.home.join(format!("{name}.pub"))).1
        );
    }
    let lonely = private(&inv, &fx.elsewhere.join("lonely_rsa"));
    assert!(lonely.encrypted && lonely.key.is_none());

    let host = private(&inv, &fx.etc.join("ssh_host_ed25519_key"));
    assert!(host.host_key);
    let host_pub = inv
        .public_keys
        .iter()
        .find(|k| k.path.0.ends_with("ssh_host_ed25519_key.pub"))
        .unwrap();
    assert!(host_pub.host_key);
    assert!(
        inv.problems.iter().all(|p| p.line.is_some()),
        "only the broken line: {:?}",
        inv.problems
    );
}

#[test]
fn authorized_keys_entries_options_comments_and_owners() {
    let fx = fixture();
    let inv = inventory(&[fx.home.clone(), fx.etc.clone()]).unwrap();
    let auth = &inv.authorized_keys;
    assert_eq!(auth.len(), 5, "{auth:#?}");
    assert_eq!(auth.iter().map(|a| a.line).collect::<Vec<_>>(), [3, 4, 5, 6, 8]);
    assert!(auth.iter().all(|a| a.file.0.ends_with("authorized_keys")));

    let ed = &auth[0];
    assert!(ed.options.is_empty());
    assert_eq!(
        (ed.key.key_type.as_ref(), ed.comment.as_deref()),
        ("ssh-ed25519", Some("id_ed25519@test"))
    );
    assert_eq!(
        ed.key.fingerprint.to_string(),
        keygen_fingerprint(&fx.home.join("id_ed25519.pub")).1
    );

    let rsa = &auth[1];
    assert_eq!(
        rsa.options,
        [
            r#"from="10.0.0.0/8,192.168.1.1""#,
            r#"command="/usr/bin/backup --dest \"/srv, daily\"""#,
            "no-pty",
            "no-port-forwarding"
        ]
    );
    assert_eq!(
        (rsa.key.bits, rsa.weaknesses.as_slice()),
        (Some(1024), &[Weakness::ShortRsa][..])
    );
    assert_eq!(auth[3].options, ["restrict", "pty"]);
    assert_eq!(auth[4].weaknesses, [Weakness::Dsa]);
    assert_eq!(auth[4].key.bits, Some(1024));

    let broken = inv
        .problems
        .iter()
        .find(|p| p.line == Some(7))
        .expect("the malformed line is reported");
    assert!(broken.path.0.ends_with("authorized_keys"));

    // Owners: alice's own keys are known; the stranger's and the hand-made DSA key are not.
    let usage = |fp: String| inv.keys.iter().find(|k| k.fingerprint.to_string() == fp).unwrap();
    let ed_usage = usage(ed.key.fingerprint.to_string());
    assert_eq!(
        ed_usage.private_keys.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        [path_str(&fx.home.join("id_ed25519"))]
    );
    assert_eq!(ed_usage.public_keys.len(), 1);
    assert_eq!(ed_usage.authorized_in.len(), 1);
    assert_eq!(ed_usage.authorized_in[0].line, 3);
    assert!(!ed_usage.unknown_owner);
    let stranger = usage(keygen_fingerprint(&fx.elsewhere.join("stranger.pub")).1);
    assert!(stranger.unknown_owner && stranger.private_keys.is_empty());
    let unowned: Vec<_> = inv.unowned().map(|k| k.authorized_in[0].line).collect();
    assert_eq!(unowned, if fx.dsa { vec![5] } else { vec![5, 8] });
    // Keys only on disk are in the inventory but not flagged as unowned.
    let enc = usage(keygen_fingerprint(&fx.home.join("id_ed25519_enc.pub")).1);
    assert!(enc.authorized_in.is_empty() && !enc.unknown_owner);

    // known_hosts entries, with their marker.
    assert_eq!(inv.known_hosts.len(), 2);
    assert_eq!(inv.known_hosts[0].hosts, "server.example.com,10.1.2.3");
    assert_eq!(
        inv.known_hosts[0].key.fingerprint.to_string(),
        keygen_fingerprint(&fx.etc.join("ssh_host_ed25519_key.pub")).1
    );
    assert_eq!(inv.known_hosts[1].marker.as_deref(), Some("cert-authority"));
    assert!(inv.flagged().count() >= 4);
}

#[test]
fn json_never_contains_private_key_material() {
    let fx = fixture();
    let inv = inventory(std::slice::from_ref(&fx.home)).unwrap();
    let json = serde_json::to_string(&inv).unwrap();
    for name in ["id_ed25519", "id_rsa_1024", "id_rsa_pkcs8", "id_ecdsa_pem"] {
        let text = std::fs::read_to_string(fx.home.join(name)).unwrap();
        for body_line in text.lines().filter(|l| !l.starts_with("-----") && l.len() > 20) {
            assert!(
                !json.contains(body_line),
                "{name}'s private body leaked into the report"
            );
        }
    }
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = &value["authorized_keys"][0];
    assert_eq!(first["key_type"], "ssh-ed25519");
    assert!(first["fingerprint"].as_str().unwrap().starts_with("SHA256:"));
    assert_eq!(first["line"], 3);
    assert!(
        value["private_keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["weaknesses"][0] == "short-rsa")
    );
}

#[test]
fn explicit_files_and_errors() {
    let fx = fixture();
    let auth = fx.home.join("authorized_keys");
    let inv = inventory(std::slice::from_ref(&auth)).unwrap();
    assert_eq!(inv.authorized_keys.len(), 5);
    assert!(inv.private_keys.is_empty());
    assert!(
        inv.unowned().count() >= 4,
        "nothing else known: every authorised key is unowned"
    );
    // CRLF endings, an over-long line and no final newline.
    let ed = read_pub(&fx.home.join("id_ed25519.pub"));
    let odd = fx.elsewhere.join("authorized_keys2");
    let long = format!("command=\"{}\" {ed}", "x".repeat(3 * 1024 * 1024));
    std::fs::write(&odd, format!("{ed}\r\n{long}\r\nno-pty {ed}")).unwrap();
    let inv = inventory(std::slice::from_ref(&odd)).unwrap();
    assert_eq!(inv.authorized_keys.iter().map(|a| a.line).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(inv.authorized_keys[0].comment.as_deref(), Some("id_ed25519@test"));
    assert_eq!(inv.authorized_keys[1].options, ["no-pty"]);
    assert_eq!(
        (
            inv.problems.len(),
            inv.problems[0].line,
            inv.problems[0].message.as_str()
        ),
        (1, Some(2), "line too long")
    );
    assert_eq!(inv.keys.len(), 1);
    assert_eq!(inv.keys[0].authorized_in.len(), 2);

    let inv = inventory(&[fx.home.join("config")]).unwrap();
    assert_eq!(inv.problems.len(), 1, "an unrecognised explicit file is reported");
    assert!(inventory(&[fx.home.join("missing")]).is_err());
}
