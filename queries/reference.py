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
