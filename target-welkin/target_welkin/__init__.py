"""target-welkin: a Singer target that creates or patches Welkin Health resources."""
