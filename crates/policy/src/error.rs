//! The crate's one error type.

/// Why a policy could not be accepted. Messages name what is wrong and never echo secrets.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The text is not valid policy syntax, or a rule is wrong; `line` is 1-based.
    #[error("failed to parse policy: line {line}: {message}")]
    Parse {
        /// 1-based line of the offending construct (the start of its `path` block for rule errors).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A problem with no useful line: a bad policy name, for example.
    #[error("failed to parse policy: {0}")]
    Invalid(String),
}

impl PolicyError {
    pub(crate) fn at(line: usize, message: impl Into<String>) -> PolicyError {
        PolicyError::Parse {
            line,
            message: message.into(),
        }
    }
}
