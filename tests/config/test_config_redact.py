"""Problems in a redact: block are config errors with their file, line and key path."""

from __future__ import annotations

from flagpipe.config.loader import load_config


def test_a_broken_custom_regex_names_its_line(write_config, problems) -> None:
    path = write_config(
        """\
        redact:
          detect: [email]
          patterns:
            ticket: 'TCK-\\d{6}'
            broken: '(unclosed'
        """
    )
    (message,) = problems(path)
    assert message.startswith("flagging.yaml:5 redact.patterns.broken: not a valid regular expression: ")


def test_an_unknown_detector_names_its_line_and_the_known_ones(write_config, problems) -> None:
    path = write_config(
        """\
        redact:
          detect:
            - email
            - passport
        """
    )
    (message,) = problems(path)
    assert message.startswith("flagging.yaml:4 redact.detect[1]: unknown detector 'passport'; registered detectors: ")
    assert "credit_card, email, iban, image_location, ip, phone, secret, url_credentials" in message


def test_bad_detector_options_name_their_line(write_config, problems) -> None:
    path = write_config(
        """\
        redact:
          detect:
            - phone: {region: XX}
            - email: {strict: true}
        callbacks:
          - type: csv
            redact:
              detect: [{secret: {entropy: 12}}]
        """
    )
    assert problems(path) == [
        "flagging.yaml:3 redact.detect[0]: phone region 'XX' is not a region code phonenumbers knows "
        "(such as US, GB, DE)",
        "flagging.yaml:8 callbacks[0].redact.detect[0]: secret needs 0 < entropy <= 8 (bits per character) "
        "and min_length >= 8",
    ]


def test_hash_needs_a_key(write_config, problems) -> None:
    path = write_config(
        """\
        redact:
          detect: [email]
          action: hash
        """
    )
    assert problems(path) == ["flagging.yaml:1 redact: hash needs a key: set key (for example key: ${REDACT_KEY})"]


def test_the_key_comes_from_the_environment_and_never_shows_in_dumps(write_config) -> None:
    path = write_config(
        """\
        redact:
          detect: [email]
          action: hash
          key: ${REDACT_KEY}
        """
    )
    loaded = load_config(path, env={"REDACT_KEY": "k" * 32})
    assert loaded.redactor is not None
    assert "k" * 32 not in str(loaded.config.model_dump(mode="json"))
    assert "k" * 32 not in repr(loaded.config)


def test_a_pattern_matching_nothing_at_all_is_refused(write_config, problems) -> None:
    path = write_config(
        """\
        redact:
          patterns:
            empty: 'x*'
        """
    )
    assert problems(path) == [
        "flagging.yaml:3 redact.patterns.empty: the pattern matches an empty text; it must match at least one character"
    ]


def test_a_config_model_with_a_key_round_trips_into_a_flagger(tmp_path) -> None:
    from flagpipe import Flagger
    from flagpipe.config.model import FlagpipeConfig

    redact = {"detect": ["email"], "action": "hash", "key": "k" * 32}
    model = FlagpipeConfig.model_validate({"dir": str(tmp_path), "delivery": {"mode": "inline"}, "redact": redact})
    assert "k" * 32 not in model.model_dump_json()
    with Flagger(model) as flagger:
        flagger.flag({"p": "a@example.com"})
        stored = flagger.latest(1)[0].field("p").value
    with Flagger({**model.model_dump(mode="json"), "redact": redact}) as flagger:
        flagger.flag({"p": "a@example.com"})
        assert flagger.latest(1)[0].field("p").value == stored
