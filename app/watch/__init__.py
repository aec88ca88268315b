"""Watching dataflows and telling people when a run fails.

`health` reads a dataflow's health from Flow Service's objects (pure functions); `watcher` reads every sandbox's
dataflows and runs once across workers and replicas and turns what changed into events, each made once; `rules` says
which alert rules an event matches; `messages` words an event for each channel; `sealing` keeps a destination's URL
sealed and derives a webhook's signing secret; `channels` sends to a webhook, Slack or email; `deliverer` sends each
event's deliveries, retried with back-off for a day; `adobe_events` takes Adobe I/O Events' flow run notifications.
"""
