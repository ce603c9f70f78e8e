//! Checks of the request's settings (FIPS codes, residential speed) before any file is read:
//! a typo there would otherwise silently fall back to another speed default.

use super::{AnalysisRequest, PipelineError};

/// State and territory FIPS codes (50 states, DC, AS, GU, MP, PR, VI).
const STATE_FIPS: [&str; 56] = [
    "01", "02", "04", "05", "06", "08", "09", "10", "11", "12", "13", "15", "16", "17", "18", "19",
    "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35",
    "36", "37", "38", "39", "40", "41", "42", "44", "45", "46", "47", "48", "49", "50", "51", "53",
    "54", "55", "56", "60", "66", "69", "72", "78",
];

/// Posted residential speeds (mph) that can be meant: the reference tables hold 20–30.
pub const RESIDENTIAL_SPEED_MPH: std::ops::RangeInclusive<u32> = 5..=65;

/// Every setting of `req`, each refused with one sentence naming the setting and the fix.
pub(super) fn check_settings(req: &AnalysisRequest) -> Result<(), PipelineError> {
    if let Some(s) = &req.state_fips {
        check_state_fips(s).map_err(PipelineError::Input)?;
    }
    if let Some(c) = &req.city_fips {
        check_city_fips(c).map_err(PipelineError::Input)?;
    }
    if let Some(mph) = req.residential_speed {
        check_residential_speed(mph).map_err(PipelineError::Input)?;
    }
    Ok(())
}

pub fn check_state_fips(code: &str) -> Result<(), String> {
    if STATE_FIPS.contains(&code.trim()) {
        return Ok(());
    }
    Err(format!(
        "--state-fips {code:?} is not a US state or territory FIPS code; use the 2-digit code, \
         e.g. 11 for the District of Columbia or 06 for California"
    ))
}

pub fn check_city_fips(code: &str) -> Result<(), String> {
    let code = code.trim();
    let digits = code.len() == 7 && code.bytes().all(|b| b.is_ascii_digit());
    if digits && STATE_FIPS.contains(&&code[..2]) {
        return Ok(());
    }
    Err(format!(
        "--city-fips {code:?} is not a place FIPS code; use the 7 digits of the state and place \
         codes, e.g. 1150000 for Washington, DC"
    ))
}

pub fn check_residential_speed(mph: u32) -> Result<(), String> {
    if RESIDENTIAL_SPEED_MPH.contains(&mph) {
        return Ok(());
    }
    Err(format!(
        "--residential-speed {mph} is not a residential speed limit; give one from {} to {} mph",
        RESIDENTIAL_SPEED_MPH.start(),
        RESIDENTIAL_SPEED_MPH.end()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_codes() {
        // (code, accepted)
        let cases = [
            ("11", true),
            ("06", true),
            ("72", true),
            (" 50 ", true),
            ("xx", false),
            ("99", false),
            ("-1", false),
            ("6", false),
            ("03", false),
            ("", false),
            ("011", false),
        ];
        for (code, ok) in cases {
            assert_eq!(check_state_fips(code).is_ok(), ok, "{code:?}");
        }
        let e = check_state_fips("xx").unwrap_err();
        assert!(
            e.starts_with("--state-fips \"xx\"") && e.contains("2-digit"),
            "{e}"
        );
    }

    #[test]
    fn city_codes() {
        // (code, accepted)
        let cases = [
            ("1150000", true),
            ("5010675", true),
            ("0644000", true),
            ("abc", false),
            ("99999999", false),
            ("0000000", false),
            ("1150000x", false),
            ("9950000", false),
            ("115000", false),
            ("११५००००", false),
            ("", false),
        ];
        for (code, ok) in cases {
            assert_eq!(check_city_fips(code).is_ok(), ok, "{code:?}");
        }
        let e = check_city_fips("abc").unwrap_err();
        assert!(
            e.starts_with("--city-fips \"abc\"") && e.contains("7 digits"),
            "{e}"
        );
    }

    #[test]
    fn residential_speeds() {
        // (mph, accepted)
        let cases = [
            (0, false),
            (4, false),
            (5, true),
            (25, true),
            (65, true),
            (66, false),
        ];
        for (mph, ok) in cases {
            assert_eq!(check_residential_speed(mph).is_ok(), ok, "{mph}");
        }
        assert!(check_residential_speed(0)
            .unwrap_err()
            .contains("--residential-speed 0"));
    }
}
