#pragma once

#include <QStringList>

namespace edgelens {

// `edgelens-cli devices discover [--timeout S] [--json]`: the EdgeLens servers that announce
// themselves on the local network (mDNS, through avahi-daemon), listed once the time is up.
// arguments[0] is the program name, arguments[1] "discover". Returns the process exit code.
int runDiscoverCommand(const QStringList &arguments);

} // namespace edgelens
