//! The index answers routing and catalogue questions without decompressing any model; a
//! model is parsed on its first use, alone. (Its own process: nothing else has loaded
//! anything.)

use tclocal_specs::registry;

#[test]
fn only_the_models_used_are_parsed() {
    let r = registry();
    let all = r.all();
    let loaded = || {
        all.iter()
            .flat_map(|(s, vs)| vs.iter().map(move |v| (*s, *v)))
            .filter(|(s, v)| r.is_loaded(s, v))
            .collect::<Vec<_>>()
    };
    assert!(loaded().is_empty());

    // Routing, versions, statuses, counts: index only.
    assert_eq!(
        r.products_with_action("DescribeVpcs", "2017-03-12").exact,
        ["vpc"]
    );
    assert_eq!(r.versions("vpc"), ["2017-03-12"]);
    assert!(
        r.action_status("vpc", "2017-03-12", "DescribeVpcs")
            .is_some()
    );
    assert!(r.action_count("cvm", "2017-03-12").unwrap() > 100);
    assert!(r.action("vpc", "2017-03-12", "NoSuchAction").is_none());
    assert!(loaded().is_empty());

    // One model, on first use.
    assert!(r.action("vpc", "2017-03-12", "DescribeVpcs").is_some());
    assert_eq!(loaded(), [("vpc", "2017-03-12")]);
    let first = r.spec("vpc", "2017-03-12").unwrap() as *const _;
    let again = r.spec("vpc", "2017-03-12").unwrap() as *const _;
    assert_eq!(first, again, "parsed once, kept");
}
