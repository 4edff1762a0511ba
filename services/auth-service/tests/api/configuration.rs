//! `config/auth-service.example.toml` holds every setting with its built-in default, so it cannot
//! drift from the code: a setting added, renamed or given a new default fails this test until
//! the example says so too.

use std::path::Path;

use auth_service::config::Settings;
use service_runtime::testing::assert_example_matches_defaults;

#[test]
fn the_example_configuration_names_every_setting_with_its_default() {
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/auth-service.example.toml");
    assert_example_matches_defaults::<Settings>(&example);
}
