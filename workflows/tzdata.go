package workflows

// Time zone data is embedded so German local times in notices do not depend on
// the host's zoneinfo.
import _ "time/tzdata"
