"""Coverage: what attendees published about an event (blog posts, videos, social posts)."""
