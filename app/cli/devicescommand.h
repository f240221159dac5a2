#pragma once

#include <QStringList>

namespace edgelens {

// `edgelens-cli devices list | forget HOST:PORT`: the TLS devices trusted on first use
// (KnownDevices); `devices discover` (discovercommand.h). arguments[0] is the program name. Returns the process exit code.
int runDevicesCommand(const QStringList &arguments);

} // namespace edgelens
