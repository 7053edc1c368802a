//! Deserialisation helpers the generated code uses.

use serde::{Deserialize, Deserializer};

/// Reads a member the model says is always present: `null` (which some services send anyway)
/// becomes the type's default instead of a decoding error.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
