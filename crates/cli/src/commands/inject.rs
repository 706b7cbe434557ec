//! `coffer inject -i TEMPLATE -o FILE`: renders every `coffer://mount/path#field` reference
//! (and every `{{ coffer "mount/path#field" }}` tag) of any text file into FILE. The output
//! is created with mode 0600 from the start and renamed into place, so it is never readable
//! by others nor seen half-written.

use std::ops::Range;
use std::path::PathBuf;

use clap::Args;
use coffer_scan::rewrite::Reference;
use coffer_scan::rewrite::atomic::write_atomic;

use super::run::Resolver;
use super::{CliError, CmdResult, Ctx, EXIT_OK};

/// Arguments of `coffer inject`.
#[derive(Debug, Args)]
pub struct InjectArgs {
    /// Template file holding `coffer://` references.
    #[arg(short = 'i', long = "in", value_name = "TEMPLATE")]
    input: PathBuf,
    /// Output file (written with mode 0600).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    output: PathBuf,
}

/// Every `{{ coffer "…" }}` tag of a template, with its byte range.
fn template_tags(text: &str) -> Result<Vec<(Range<usize>, Reference)>, CliError> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find("{{") {
        let start = from + pos;
        let Some(close) = text[start..].find("}}").map(|i| start + i) else {
            break;
        };
        let inner = text[start + 2..close].trim();
        from = close + 2;
        let Some(arg) = inner.strip_prefix("coffer") else {
            continue;
        };
        let arg = arg.trim();
        let quoted = arg.strip_prefix('"').and_then(|a| a.strip_suffix('"'));
        let Some(target) = quoted else {
            return Err(CliError::usage(format!(
                "malformed template tag {{{{ {inner} }}}}: use {{{{ coffer \"mount/path#field\" }}}}"
            )));
        };
        let target = target
            .strip_prefix(coffer_scan::rewrite::reference::SCHEME)
            .unwrap_or(target);
        let r = Reference::parse(&format!("{}{target}", coffer_scan::rewrite::reference::SCHEME))
            .map_err(|e| CliError::usage(format!("invalid reference in template tag {{{{ {inner} }}}}: {e}")))?;
        out.push((start..close + 2, r));
    }
    Ok(out)
}

/// Every reference of a template (tags first, then bare references outside tags), in order.
pub fn references(text: &str) -> Result<Vec<(Range<usize>, Reference)>, CliError> {
    let mut all = template_tags(text)?;
    let bare = Reference::find_all(text);
    for (range, r) in bare {
        if !all.iter().any(|(t, _)| t.start <= range.start && range.end <= t.end) {
            all.push((range, r));
        }
    }
    all.sort_by_key(|(r, _)| r.start);
    Ok(all)
}

/// Renders the template: every reference replaced by its value.
pub async fn render(resolver: &mut Resolver<'_>, text: &str) -> Result<String, CliError> {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (range, r) in references(text)? {
        out.push_str(&text[pos..range.start]);
        out.push_str(&resolver.resolve(&r).await?);
        pos = range.end;
    }
    out.push_str(&text[pos..]);
    Ok(out)
}

/// Runs `coffer inject`.
pub async fn run(ctx: &Ctx, args: InjectArgs) -> CmdResult {
    let text = std::fs::read_to_string(&args.input)
        .map_err(|e| CliError::usage(format!("Error reading template {}: {e}", args.input.display())))?;
    let mut resolver = Resolver::new(ctx);
    let rendered = render(&mut resolver, &text).await?;
    write_atomic(&args.output, rendered.as_bytes(), Some(0o600))
        .map_err(|e| CliError::failed(format!("Error writing {}: {e}", args.output.display())))?;
    ctx.success(&format!(
        "Success! Rendered {} to {}",
        args.input.display(),
        args.output.display()
    ));
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tags_and_bare_references() {
        let t = "a={{ coffer \"secret/app#pw\" }}\nb=coffer://kv/x#token\nc={{ other }}\n";
        let refs = references(t).unwrap();
        let names: Vec<String> = refs.iter().map(|(_, r)| r.to_string()).collect();
        assert_eq!(names, ["coffer://secret/app#pw", "coffer://kv/x#token"]);
        assert_eq!(&t[refs[0].0.clone()], "{{ coffer \"secret/app#pw\" }}");
        assert!(references("{{ coffer secret/x#y }}").is_err());
        assert!(references("{{ coffer \"secret/x\" }}").is_err());
    }
}
