//! What `coffer login` sends for each auth method: the `K=V` arguments become either a token
//! to check (`token`) or a `POST auth/<mount>/login[/<username>]` body. Pure but for the
//! [`Prompter`], so every method's parsing is unit tested.

use std::fmt;
use std::io::IsTerminal;

use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::args::{Inputs, parse_data_args, sanitize_path};

/// The auth methods `coffer login` knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// An existing token (argument, prompt or stdin).
    Token,
    /// `username=… password=…` (the password is prompted for when omitted).
    Userpass,
    /// `role_id=… [secret_id=…]`.
    Approle,
    /// `[role=…] jwt=…`.
    Jwt,
    /// TLS client certificate (`-client-cert`/`-client-key`), optional `name=…`.
    Cert,
}

impl Method {
    /// The method's type name, also its default mount path.
    pub fn name(self) -> &'static str {
        match self {
            Method::Token => "token",
            Method::Userpass => "userpass",
            Method::Approle => "approle",
            Method::Jwt => "jwt",
            Method::Cert => "cert",
        }
    }
}

/// Asks the user for a secret value.
pub trait Prompter {
    /// Reads a secret after showing `label`: hidden input on a terminal, else one line of
    /// standard input.
    fn secret(&mut self, label: &str) -> Result<String, String>;
}

/// [`Prompter`] on the real terminal / standard input.
pub struct TtyPrompter;

impl Prompter for TtyPrompter {
    fn secret(&mut self, label: &str) -> Result<String, String> {
        if std::io::stdin().is_terminal() {
            rpassword::prompt_password(label).map_err(|e| format!("error reading from the terminal: {e}"))
        } else {
            super::read_stdin_line().map_err(|e| e.message)
        }
    }
}

/// One login to perform. `Debug` never shows the token or any body value.
pub enum LoginRequest {
    /// Check this token with `auth/token/lookup-self` and use it.
    Token(SecretString),
    /// `POST <path>` (no client token) with `body`.
    Post {
        /// API path, e.g. `auth/userpass/login/alice`.
        path: String,
        /// Login fields (passwords, secret ids, JWTs…).
        body: Map<String, Value>,
    },
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginRequest::Token(_) => f.write_str("Token([redacted])"),
            LoginRequest::Post { path, body } => f
                .debug_struct("Post")
                .field("path", path)
                .field("body_keys", &body.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// Removes `key` from `data` as one string; a repeated key is an error.
fn take(data: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match data.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key} was given more than once")),
    }
}

/// Builds the login for `method` mounted at `mount` (default: the method's name) from the
/// `K=V` arguments. For `token`, a first argument without `=` is the token (`-` reads it
/// from stdin). Missing tokens and userpass passwords are asked for with `prompt`;
/// a missing userpass username falls back to `$USER`, as Vault does.
pub fn login_request(
    method: Method,
    mount: Option<&str>,
    args: &[String],
    inputs: &mut dyn Inputs,
    prompt: &mut dyn Prompter,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<LoginRequest, String> {
    let mut args = args.to_vec();
    if method == Method::Token
        && let Some(first) = args.first_mut()
        && !first.contains('=')
    {
        *first = format!("token={first}");
    }
    if let Some(flag) = args.iter().find(|a| a.starts_with('-') && a.len() > 1) {
        let name = flag.split('=').next().unwrap_or(flag);
        return Err(format!(
            "flag {name} must come before the K=V arguments (coffer login [flags] [K=V…])"
        ));
    }
    let mut data = parse_data_args(&args, inputs)?;
    let mount = sanitize_path(mount.unwrap_or(method.name()));
    if mount.is_empty() {
        return Err("-path must not be empty".into());
    }
    let login = format!("auth/{mount}/login");
    let required = |v: Option<String>, key: &str| -> Result<String, String> {
        v.filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("{key}=… is required for -method={}", method.name()))
    };
    match method {
        Method::Token => {
            if let Some(extra) = data.keys().find(|k| *k != "token") {
                return Err(format!("unexpected argument {extra:?}: token login takes only a token"));
            }
            let token = match take(&mut data, "token")? {
                Some(t) => t,
                None => prompt.secret("Token (will be hidden): ")?,
            };
            let token = token.trim().to_string();
            if token.is_empty() {
                return Err("a token is required: coffer login TOKEN".into());
            }
            Ok(LoginRequest::Token(SecretString::from(token)))
        }
        Method::Userpass => {
            let username = take(&mut data, "username")?.or_else(|| env("USER"));
            let username = required(username, "username")?;
            if username.contains('/') {
                return Err("username must not contain '/'".into());
            }
            let password = match take(&mut data, "password")? {
                Some(p) => p,
                None => prompt.secret("Password (will be hidden): ")?,
            };
            if password.is_empty() {
                return Err("a password is required for -method=userpass".into());
            }
            data.insert("password".into(), Value::String(password));
            Ok(LoginRequest::Post {
                path: format!("{login}/{username}"),
                body: data,
            })
        }
        Method::Approle => {
            let role_id = required(take(&mut data, "role_id")?, "role_id")?;
            data.insert("role_id".into(), Value::String(role_id));
            Ok(LoginRequest::Post {
                path: login,
                body: data,
            })
        }
        Method::Jwt => {
            let jwt = required(take(&mut data, "jwt")?, "jwt")?;
            data.insert("jwt".into(), Value::String(jwt.trim().to_string()));
            Ok(LoginRequest::Post {
                path: login,
                body: data,
            })
        }
        Method::Cert => Ok(LoginRequest::Post {
            path: login,
            body: data,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::json;

    struct Fake {
        answers: Vec<String>,
        asked: Vec<String>,
        stdin: Option<String>,
    }

    impl Prompter for Fake {
        fn secret(&mut self, label: &str) -> Result<String, String> {
            self.asked.push(label.to_string());
            self.answers.pop().ok_or_else(|| "no terminal".to_string())
        }
    }

    impl Inputs for Fake {
        fn read_file(&mut self, path: &str) -> Result<String, String> {
            Err(format!("error reading {path}"))
        }
        fn read_stdin(&mut self) -> Result<String, String> {
            self.stdin.take().ok_or_else(|| "stdin used".into())
        }
    }

    fn fake(answers: &[&str]) -> Fake {
        Fake {
            answers: answers.iter().map(|s| s.to_string()).collect(),
            asked: vec![],
            stdin: Some("cfs_fromstdin\n".into()),
        }
    }

    fn run(method: Method, mount: Option<&str>, args: &[&str], f: &mut Fake) -> Result<LoginRequest, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env = |n: &str| (n == "USER").then(|| "envuser".to_string());
        let mut inputs = Fake {
            answers: vec![],
            asked: vec![],
            stdin: f.stdin.take(),
        };
        login_request(method, mount, &args, &mut inputs, f, &env)
    }

    fn post(r: LoginRequest) -> (String, Value) {
        match r {
            LoginRequest::Post { path, body } => (path, Value::Object(body)),
            other => panic!("expected a POST, got {other:?}"),
        }
    }

    fn token(r: LoginRequest) -> String {
        match r {
            LoginRequest::Token(t) => t.expose_secret().to_string(),
            other => panic!("expected a token, got {other:?}"),
        }
    }

    #[test]
    fn token_from_argument_pair_stdin_or_prompt() {
        assert_eq!(
            token(run(Method::Token, None, &["cfs_abc"], &mut fake(&[])).unwrap()),
            "cfs_abc"
        );
        assert_eq!(
            token(run(Method::Token, None, &["token=cfs_x"], &mut fake(&[])).unwrap()),
            "cfs_x"
        );
        assert_eq!(
            token(run(Method::Token, None, &["-"], &mut fake(&[])).unwrap()),
            "cfs_fromstdin"
        );
        let mut f = fake(&["cfs_typed\n"]);
        assert_eq!(token(run(Method::Token, None, &[], &mut f).unwrap()), "cfs_typed");
        assert_eq!(f.asked, ["Token (will be hidden): "]);
        assert!(run(Method::Token, None, &[], &mut fake(&["  "])).is_err());
        assert!(run(Method::Token, None, &["cfs_a", "x=y"], &mut fake(&[])).is_err());
    }

    #[test]
    fn flags_after_arguments_are_refused_not_sent() {
        let e = run(
            Method::Userpass,
            None,
            &["username=a", "password=p", "--format=json"],
            &mut fake(&[]),
        )
        .unwrap_err();
        assert!(e.contains("--format") && e.contains("before"), "{e}");
        let e = run(Method::Approle, None, &["role_id=r", "--no-store"], &mut fake(&[])).unwrap_err();
        assert!(e.contains("--no-store"), "{e}");
    }

    #[test]
    fn userpass_posts_to_the_user_path_and_prompts_for_the_password() {
        let (path, body) = post(
            run(
                Method::Userpass,
                None,
                &["username=alice", "password=pw"],
                &mut fake(&[]),
            )
            .unwrap(),
        );
        assert_eq!(path, "auth/userpass/login/alice");
        assert_eq!(body, json!({"password": "pw"}));
        let mut f = fake(&["typed-pw"]);
        let (path, body) = post(run(Method::Userpass, Some("/corp/"), &["username=bob"], &mut f).unwrap());
        assert_eq!(
            (path.as_str(), body),
            ("auth/corp/login/bob", json!({"password": "typed-pw"}))
        );
        assert_eq!(f.asked, ["Password (will be hidden): "]);
        // Username from $USER; extra fields (e.g. a legacy MFA passcode) pass through.
        let (path, body) = post(run(Method::Userpass, None, &["password=p", "passcode=123"], &mut fake(&[])).unwrap());
        assert_eq!(path, "auth/userpass/login/envuser");
        assert_eq!(body, json!({"password": "p", "passcode": "123"}));
        let e = run(Method::Userpass, None, &["username=a"], &mut fake(&[])).unwrap_err();
        assert_eq!(e, "no terminal");
        assert!(run(Method::Userpass, None, &["username=a/b", "password=p"], &mut fake(&[])).is_err());
    }

    #[test]
    fn approle_jwt_and_cert_bodies() {
        let (path, body) = post(run(Method::Approle, None, &["role_id=r", "secret_id=s"], &mut fake(&[])).unwrap());
        assert_eq!(
            (path.as_str(), body),
            ("auth/approle/login", json!({"role_id": "r", "secret_id": "s"}))
        );
        let e = run(Method::Approle, None, &["secret_id=s"], &mut fake(&[])).unwrap_err();
        assert!(e.contains("role_id"), "{e}");
        let (path, body) = post(run(Method::Jwt, Some("oidc"), &["role=dev", "jwt=eyJ.x.y"], &mut fake(&[])).unwrap());
        assert_eq!(
            (path.as_str(), body),
            ("auth/oidc/login", json!({"role": "dev", "jwt": "eyJ.x.y"}))
        );
        assert!(run(Method::Jwt, None, &["role=dev"], &mut fake(&[])).is_err());
        let (path, body) = post(run(Method::Cert, None, &["name=web"], &mut fake(&[])).unwrap());
        assert_eq!((path.as_str(), body), ("auth/cert/login", json!({"name": "web"})));
        let (path, body) = post(run(Method::Cert, None, &[], &mut fake(&[])).unwrap());
        assert_eq!((path.as_str(), body), ("auth/cert/login", json!({})));
        assert!(run(Method::Cert, Some("/"), &[], &mut fake(&[])).is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let r = run(
            Method::Userpass,
            None,
            &["username=a", "password=hunter2"],
            &mut fake(&[]),
        )
        .unwrap();
        let dbg = format!("{r:?}");
        assert!(dbg.contains("password") && !dbg.contains("hunter2"), "{dbg}");
        let r = run(Method::Token, None, &["cfs_secret"], &mut fake(&[])).unwrap();
        assert!(!format!("{r:?}").contains("cfs_secret"));
    }
}
