//! The lexer: source text to tokens.
//!
//! The surface is S-expressions, so there are few token kinds: parentheses
//! (square brackets are accepted as parentheses that must match each other,
//! as in Racket), the quote mark, and atoms. An atom is a run of characters
//! up to whitespace, a bracket, a quote, a double quote or a `;` comment.
//! An atom that looks like a number is one — and an atom that starts like a
//! number but is not one (`12abc`) is an error rather than a symbol, so a
//! typo never silently becomes a variable name.
//!
//! | text | token |
//! |---|---|
//! | `42`, `-7` | integer (64-bit; out of range is an error) |
//! | `1.5`, `-0.25`, `1e9`, `.5` | float |
//! | `"a\tb\n"` | string, with `\n \t \r \\ \" \0` escapes |
//! | `#t`, `#f` | booleans |
//! | `; …` | a comment to the end of the line |
//! | anything else | a symbol (`nil` is resolved by the parser) |

use crate::error::{Diagnostic, Source, Span};

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// `(` or `[`; the flag is true for `[`.
    Open(bool),
    /// `)` or `]`; the flag is true for `]`.
    Close(bool),
    /// `'`
    Quote,
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A string literal, escapes resolved.
    Str(String),
    /// `#t` or `#f`.
    Bool(bool),
    /// Any other atom.
    Symbol(String),
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where.
    pub span: Span,
}

/// Splits `source` into tokens.
pub fn tokenize(source: &Source) -> Result<Vec<Token>, Diagnostic> {
    let text = source.text.as_str();
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    let error = |start: usize, end: usize, message: String| {
        Diagnostic::new(source, Span::new(start, end), message)
    };
    while let Some(&(start, c)) = chars.peek() {
        let single = |kind| Token {
            kind,
            span: Span::new(start, start + 1),
        };
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            ';' => while chars.next_if(|&(_, c)| c != '\n').is_some() {},
            '(' | '[' => {
                chars.next();
                tokens.push(single(TokenKind::Open(c == '[')));
            }
            ')' | ']' => {
                chars.next();
                tokens.push(single(TokenKind::Close(c == ']')));
            }
            '\'' => {
                chars.next();
                tokens.push(single(TokenKind::Quote));
            }
            '"' => {
                chars.next();
                let mut value = String::new();
                let end = loop {
                    let Some((i, c)) = chars.next() else {
                        return Err(error(start, start + 1, "unterminated string".into()));
                    };
                    match c {
                        '"' => break i + 1,
                        '\\' => {
                            let Some((j, escaped)) = chars.next() else {
                                return Err(error(start, start + 1, "unterminated string".into()));
                            };
                            value.push(match escaped {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                '0' => '\0',
                                '\\' => '\\',
                                '"' => '"',
                                other => {
                                    return Err(error(
                                        i,
                                        j + other.len_utf8(),
                                        format!(
                                            "unknown escape '\\{}' in string",
                                            other.escape_default()
                                        ),
                                    ))
                                }
                            });
                        }
                        c => value.push(c),
                    }
                };
                tokens.push(Token {
                    kind: TokenKind::Str(value),
                    span: Span::new(start, end),
                });
            }
            _ => {
                let mut end = start;
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || "()[]'\";".contains(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                let atom = &text[start..end];
                let kind = atom_kind(atom).map_err(|message| error(start, end, message))?;
                tokens.push(Token {
                    kind,
                    span: Span::new(start, end),
                });
            }
        }
    }
    Ok(tokens)
}

/// Classifies an atom: boolean, number or symbol.
fn atom_kind(atom: &str) -> Result<TokenKind, String> {
    if let Some(rest) = atom.strip_prefix('#') {
        return match rest {
            "t" => Ok(TokenKind::Bool(true)),
            "f" => Ok(TokenKind::Bool(false)),
            _ => Err(format!("unknown literal '{atom}' (booleans are #t and #f)")),
        };
    }
    let unsigned = atom.strip_prefix(['+', '-']).unwrap_or(atom);
    let numeric_start = unsigned.starts_with(|c: char| c.is_ascii_digit())
        || (unsigned.starts_with('.') && unsigned[1..].starts_with(|c: char| c.is_ascii_digit()));
    if !numeric_start {
        return Ok(TokenKind::Symbol(atom.to_owned()));
    }
    if unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return atom
            .parse::<i64>()
            .map(TokenKind::Int)
            .map_err(|_| format!("integer literal '{atom}' does not fit in 64 bits"));
    }
    let float_chars = unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || b"eE.+-".contains(&b));
    match atom.parse::<f64>() {
        Ok(value) if float_chars && !unsigned.contains("inf") => Ok(TokenKind::Float(value)),
        _ => Err(format!("invalid number literal '{atom}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(&Source::new("t", text))
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn atoms_numbers_and_strings() {
        use TokenKind::*;
        assert_eq!(
            kinds("(+ -7 1.5 .5 1e3 \"a\\n\" #t x-y) ; done"),
            vec![
                Open(false),
                Symbol("+".into()),
                Int(-7),
                Float(1.5),
                Float(0.5),
                Float(1000.0),
                Str("a\n".into()),
                Bool(true),
                Symbol("x-y".into()),
                Close(false),
            ]
        );
        assert_eq!(kinds("- -x"), vec![Symbol("-".into()), Symbol("-x".into())]);
    }

    #[test]
    fn bad_atoms_are_errors() {
        for bad in ["12abc", "99999999999999999999", "#x", "\"open", "\"\\q\""] {
            assert!(tokenize(&Source::new("t", bad)).is_err(), "{bad}");
        }
    }
}
