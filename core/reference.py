"""Reference data shared by validation, demo data and pages: the enums of CONTRACT §2."""

from typing import Final

STREAMS: Final = ("engagement", "referral", "safety")

# ISO 3166-2:KH code, English name, population (2019 census, thousands).
PROVINCES: Final[tuple[tuple[str, str, int], ...]] = (
    ("KH-1", "Banteay Meanchey", 861),
    ("KH-2", "Battambang", 987),
    ("KH-3", "Kampong Cham", 899),
    ("KH-4", "Kampong Chhnang", 527),
    ("KH-5", "Kampong Speu", 877),
    ("KH-6", "Kampong Thom", 677),
    ("KH-7", "Kampot", 592),
    ("KH-8", "Kandal", 1195),
    ("KH-9", "Koh Kong", 123),
    ("KH-10", "Kratie", 372),
    ("KH-11", "Mondulkiri", 88),
    ("KH-12", "Phnom Penh", 2129),
    ("KH-13", "Preah Vihear", 254),
    ("KH-14", "Prey Veng", 1057),
    ("KH-15", "Pursat", 411),
    ("KH-16", "Ratanakiri", 204),
    ("KH-17", "Siem Reap", 1014),
    ("KH-18", "Preah Sihanouk", 310),
    ("KH-19", "Stung Treng", 165),
    ("KH-20", "Svay Rieng", 525),
    ("KH-21", "Takeo", 900),
    ("KH-22", "Oddar Meanchey", 276),
    ("KH-23", "Kep", 41),
    ("KH-24", "Pailin", 76),
    ("KH-25", "Tbong Khmum", 776),
)

AGE_BANDS: Final = ("18-24", "25-34", "35-44", "45-54", "55+")
LANGUAGES: Final = ("km", "en", "other")  # plus "unknown" when missing
UNKNOWN: Final = "unknown"

ENGAGEMENT_TYPES: Final = (
    "view",
    "like",
    "comment",
    "share",
    "favorite",
    "follow",
    "post",
    "hub_visit",
    "guide_view",
    "tip_video_view",
    "screen_time_limit_set",
)
# Event types that must name the video they happened on.
VIDEO_EVENT_TYPES: Final = ("view", "like", "comment", "share", "favorite", "post", "tip_video_view")
# Event types that may carry watch_time_ms (a tip video is watched too).
WATCH_TIME_TYPES: Final = ("view", "tip_video_view")
SURFACES: Final = ("for_you", "following", "hashtag_page", "search", "wellness_hub", "profile", "other")

REFERRAL_STAGES: Final = ("shown", "clicked", "contacted")
ENTRY_POINTS: Final = (
    "search_intervention",
    "hashtag_page",
    "wellness_hub",
    "video_banner",
    "wellbeing_guide",
    "other",
)
CHANNELS: Final = ("phone", "chat", "web", "messaging", "other")

SAFETY_ACTIONS: Final = (
    "report",
    "block",
    "unblock",
    "comment_filter_on",
    "comment_filter_off",
    "removal",
    "restore",
)
# Actions the platform performs itself: the only ones that may leave user_id empty.
PLATFORM_ACTIONS: Final = ("removal", "restore")
TARGET_TYPES: Final = ("video", "comment", "account", "live")
POLICIES: Final = (
    "self_harm",
    "suicide",
    "bullying_harassment",
    "hate_speech",
    "misinformation",
    "dangerous_acts",
    "adult_content",
    "violent_content",
    "spam",
    "other",
)
DETECTIONS: Final = ("proactive", "user_report")

# Landing columns per stream (CONTRACT §2); anything else in a file is reported as unknown.
COMMON_COLUMNS: Final = ("event_id", "event_time", "user_id", "province", "age_band", "language")
ENGAGEMENT_COLUMNS: Final = (
    "event_type",
    "video_id",
    "creator_id",
    "hashtags",
    "surface",
    "watch_time_ms",
    "partner_id",
)
REFERRAL_COLUMNS: Final = ("partner_id", "stage", "entry_point", "channel")
SAFETY_COLUMNS: Final = ("action", "target_type", "target_id", "policy", "detection", "views_at_action")

# Other spellings seen in exports, lower case, without " province".
PROVINCE_ALIASES: Final = {
    "KH-1": ("banteay mean chey",),
    "KH-2": ("batdambang",),
    "KH-3": ("kampong chaam",),
    "KH-10": ("kracheh",),
    "KH-11": ("mondul kiri",),
    "KH-12": ("phnom penh capital", "phnompenh"),
    "KH-16": ("ratanak kiri", "rattanakiri"),
    "KH-17": ("siemreap", "siem reab"),
    "KH-18": ("sihanoukville", "preah sihanouk", "kampong som"),
    "KH-19": ("stueng traeng", "steung treng"),
    "KH-22": ("otdar mean chey", "oddar mean chey"),
    "KH-23": ("kaeb",),
    "KH-24": ("pailin city",),
    "KH-25": ("tboung khmum",),
}


def province_keys() -> list[tuple[str, str]]:
    """(lower-case spelling, ISO code) for every accepted way to name a province."""
    keys = {code.lower(): code for code, _, _ in PROVINCES}
    keys.update({name.lower(): code for code, name, _ in PROVINCES})
    keys.update({alias: code for code, aliases in PROVINCE_ALIASES.items() for alias in aliases})
    return sorted(keys.items())
