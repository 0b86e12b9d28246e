//! Macros that give the domain's small value types one shape: string codes for
//! enums, and autosurgeon mappings for newtypes stored as strings.

/// Declares a fieldless enum stored everywhere (JSON, Automerge, SQLite) as a
/// stable snake_case code, with its Chinese label.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $zh:literal), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The stable code used on the wire, in documents and in SQL.
            pub const fn code(self) -> &'static str {
                match self { $( $name::$variant => $code, )+ }
            }

            /// The Chinese label a user sees.
            pub const fn label_zh(self) -> &'static str {
                match self { $( $name::$variant => $zh, )+ }
            }

            /// Parses a stable code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code => Some($name::$variant), )+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::from_code(&code).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        concat!("unknown ", stringify!($name), " code {:?}"), code
                    ))
                })
            }
        }

        #[cfg(feature = "doc")]
        impl autosurgeon::Reconcile for $name {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: autosurgeon::Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
                r.str(self.code())
            }
        }

        #[cfg(feature = "doc")]
        impl autosurgeon::Hydrate for $name {
            fn hydrate_string(s: &str) -> Result<Self, autosurgeon::HydrateError> {
                $name::from_code(s).ok_or_else(|| {
                    autosurgeon::HydrateError::unexpected(
                        concat!("a ", stringify!($name), " code"),
                        s.to_string(),
                    )
                })
            }
        }
    };
}

/// Implements autosurgeon's `Reconcile` and `Hydrate` for a type that is stored
/// in documents as its `Display` string and read back with `FromStr`. The key is
/// the value itself, so the type can serve as a `#[key]` of list items.
macro_rules! doc_as_string {
    ($name:ty) => {
        #[cfg(feature = "doc")]
        impl autosurgeon::Reconcile for $name {
            type Key<'a> = $name;
            fn reconcile<R: autosurgeon::Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
                r.str(self.to_string())
            }
            fn hydrate_key<'a, D: autosurgeon::ReadDoc>(
                doc: &D,
                obj: &automerge::ObjId,
                prop: autosurgeon::Prop<'_>,
            ) -> Result<autosurgeon::reconcile::LoadKey<Self::Key<'a>>, autosurgeon::ReconcileError>
            {
                use autosurgeon::reconcile::LoadKey;
                Ok(match doc.get(obj, &prop)? {
                    Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
                        automerge::ScalarValue::Str(s) => match s.parse::<$name>() {
                            Ok(v) => LoadKey::Found(v),
                            Err(_) => LoadKey::KeyNotFound,
                        },
                        _ => LoadKey::KeyNotFound,
                    },
                    _ => LoadKey::KeyNotFound,
                })
            }
            fn key(&self) -> autosurgeon::reconcile::LoadKey<Self::Key<'_>> {
                autosurgeon::reconcile::LoadKey::Found(self.clone())
            }
        }

        #[cfg(feature = "doc")]
        impl autosurgeon::Hydrate for $name {
            fn hydrate_string(s: &str) -> Result<Self, autosurgeon::HydrateError> {
                s.parse::<$name>().map_err(|e| {
                    autosurgeon::HydrateError::unexpected(stringify!($name), e.to_string())
                })
            }
        }
    };
}
