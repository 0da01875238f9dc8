//! Import statements, read once for every analysis: what `from M import a as b, *` and
//! `import m.n as k` bind, and which module a relative import names.

use tree_sitter::Node;

use crate::python::syntax::text;

/// One import statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import {
    /// `Some(M)` for `from M import ...` (with its leading dots when relative); `None` for
    /// `import ...`.
    pub from: Option<String>,
    /// `(name as written, local name)`: `a as b` is `("a", "b")`, `a` is `("a", "a")`; for
    /// `import m.n` the name is the dotted module.
    pub names: Vec<(String, String)>,
    /// `from M import *`.
    pub star: bool,
}

impl Import {
    /// The names bound under another name (`a as b`): `(name, alias)`.
    pub(crate) fn aliased(&self) -> impl Iterator<Item = &(String, String)> {
        self.names.iter().filter(|(name, local)| name != local)
    }
}

/// The import a statement node makes, or `None` when `stmt` is not an import.
pub(crate) fn read(stmt: Node<'_>, src: &str) -> Option<Import> {
    let from = match stmt.kind() {
        "import_from_statement" => Some(text(stmt.child_by_field_name("module_name")?, src).to_string()),
        "import_statement" => None,
        _ => return None,
    };
    let mut c = stmt.walk();
    let star = stmt.named_children(&mut c).any(|k| k.kind() == "wildcard_import");
    let mut names = Vec::new();
    let mut c = stmt.walk();
    for n in stmt.children_by_field_name("name", &mut c) {
        match n.kind() {
            "dotted_name" => names.push((text(n, src).to_string(), text(n, src).to_string())),
            "aliased_import" => {
                if let (Some(name), Some(alias)) = (n.child_by_field_name("name"), n.child_by_field_name("alias")) {
                    names.push((text(name, src).to_string(), text(alias, src).to_string()));
                }
            }
            _ => {}
        }
    }
    Some(Import { from, names, star })
}

/// The imports at a module's top level, in order.
pub(crate) fn top_level(root: Node<'_>, src: &str) -> Vec<Import> {
    let mut c = root.walk();
    root.named_children(&mut c).filter_map(|n| read(n, src)).collect()
}

/// The absolute dotted name a module `dotted` (a package when `is_package`) means by `module`
/// in a `from module import ...`: `..forms` in `shop.views.list` is `shop.forms`. `None` when
/// the dots climb above the top.
pub(crate) fn absolute(module: &str, dotted: &str, is_package: bool) -> Option<String> {
    let dots = module.chars().take_while(|&c| c == '.').count();
    let rest = &module[dots..];
    if dots == 0 {
        return (!rest.is_empty()).then(|| rest.to_string());
    }
    let mut pkg: Vec<&str> = dotted.split('.').collect();
    if !is_package {
        pkg.pop();
    }
    for _ in 1..dots {
        pkg.pop()?;
    }
    let mut t = pkg.join(".");
    if !rest.is_empty() {
        if !t.is_empty() {
            t.push('.');
        }
        t.push_str(rest);
    }
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(code: &str) -> Vec<Import> {
        let tree = crate::parse::parse(crate::classify::Lang::Python, code).unwrap();
        top_level(tree.root_node(), code)
    }

    #[test]
    fn reads_every_form() {
        let got = imports("from .models import Book, Author as A\nimport pdb, ipdb as dbg\nfrom x import *\ndef f():\n    import os\n");
        let names = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                Import {
                    from: Some(".models".into()),
                    names: names(&[("Book", "Book"), ("Author", "A")]),
                    star: false
                },
                Import { from: None, names: names(&[("pdb", "pdb"), ("ipdb", "dbg")]), star: false },
                Import { from: Some("x".into()), names: vec![], star: true },
            ]
        );
        assert_eq!(got[0].aliased().collect::<Vec<_>>(), vec![&("Author".to_string(), "A".to_string())]);
    }

    #[test]
    fn resolves_relative_modules() {
        assert_eq!(absolute("..forms", "shop.views.list", false).as_deref(), Some("shop.forms"));
        assert_eq!(absolute(".", "shop.views", true).as_deref(), Some("shop.views"));
        assert_eq!(absolute(".base", "conf.settings", true).as_deref(), Some("conf.settings.base"));
        assert_eq!(absolute("django.conf", "a.b", false).as_deref(), Some("django.conf"));
        assert_eq!(absolute("...x", "a.b", false), None);
    }
}
