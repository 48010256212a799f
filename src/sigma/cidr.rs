//! The `sigma_cidr` function: whether an address lies in a range (`10.0.0.0/8`, `2001:db8::/32`),
//! for the `cidr` modifier.

use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{Array, BooleanBuilder, StringArray};
use arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// The function's name in SQL.
pub const FUNCTION: &str = "sigma_cidr";

/// A range: its network address and prefix length.
pub fn parse(range: &str) -> Option<(IpAddr, u8)> {
    let (address, prefix) = range.trim().split_once('/').unwrap_or((range.trim(), ""));
    let address: IpAddr = address.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix = if prefix.is_empty() {
        max
    } else {
        prefix.parse::<u8>().ok().filter(|p| *p <= max)?
    };
    Some((address, prefix))
}

/// Whether `address` (text) lies in `range`.
pub fn contains(range: (IpAddr, u8), address: &str) -> bool {
    let Ok(address) = address.trim().parse::<IpAddr>() else {
        return false;
    };
    let (network, prefix) = range;
    match (network, address) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// The function for a session.
pub fn udf() -> ScalarUDF {
    let implementation = |args: &[ColumnarValue]| -> Result<ColumnarValue, DataFusionError> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let text = |i: usize| {
            arrays
                .get(i)
                .and_then(|a| a.as_any().downcast_ref::<StringArray>())
                .ok_or_else(|| DataFusionError::Plan(format!("{FUNCTION} takes two texts")))
        };
        let (addresses, ranges) = (text(0)?, text(1)?);
        let mut out = BooleanBuilder::with_capacity(addresses.len());
        let mut last: Option<(&str, Option<(IpAddr, u8)>)> = None;
        for row in 0..addresses.len() {
            if addresses.is_null(row) || ranges.is_null(row) {
                out.append_null();
                continue;
            }
            let range_text = ranges.value(row);
            let range = match last {
                Some((text, range)) if text == range_text => range,
                _ => {
                    let range = parse(range_text);
                    last = Some((range_text, range));
                    range
                }
            };
            out.append_value(range.is_some_and(|r| contains(r, addresses.value(row))));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    };
    create_udf(
        FUNCTION,
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(implementation),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_their_addresses_only() {
        let range = parse("10.1.0.0/16").expect("range");
        assert!(contains(range, "10.1.200.3"));
        assert!(!contains(range, "10.2.0.1"));
        assert!(!contains(range, "not an address"));
        assert!(contains(parse("0.0.0.0/0").expect("all"), "8.8.8.8"));
        let v6 = parse("2001:db8::/32").expect("v6");
        assert!(contains(v6, "2001:db8:1::5"));
        assert!(!contains(v6, "10.1.0.1"));
        assert!(parse("10.0.0.0/33").is_none());
        assert!(contains(parse("192.0.2.7").expect("host"), "192.0.2.7"));
    }
}
