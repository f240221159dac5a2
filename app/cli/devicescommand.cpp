#include "devicescommand.h"

#include "console.h"
#include "discovercommand.h"

#include "client/devicespec.h"
#include "client/knowndevices.h"
#include "protocol/protocol.h"

namespace edgelens {

namespace {

constexpr int kUsageError = 64;

int usage()
{
    cli::printErr(QStringLiteral("usage: edgelens-cli devices list\n"
                                 "       edgelens-cli devices forget HOST:PORT\n"
                                 "       edgelens-cli devices discover [--timeout S] [--json]\n"
                                 "Devices whose TLS certificate was trusted on first use, and their fingerprints; "
                                 "devices announcing themselves on the local network."));
    return kUsageError;
}

} // namespace

int runDevicesCommand(const QStringList &arguments)
{
    const QString action = arguments.value(1);
    if (action == QLatin1String("discover"))
        return runDiscoverCommand(arguments);
    KnownDevices known;
    if (action == QLatin1String("list") && arguments.size() == 2) {
        const auto entries = known.all();
        for (const auto &entry : entries)
            cli::printOut(entry.first + QLatin1Char(' ') + entry.second);
        cli::printErr(QStringLiteral("%1 known device(s) in %2").arg(entries.size()).arg(known.path()));
        return 0;
    }
    if (action == QLatin1String("forget") && arguments.size() == 3) {
        QString error;
        const auto device = DeviceSpec::parse(arguments.at(2), protocol::kDefaultPort, &error);
        if (!device) {
            cli::printErr(QStringLiteral("edgelens-cli devices forget: ") + error);
            return kUsageError;
        }
        bool wasKnown = false;
        if (!known.forget(device->key(), &wasKnown, &error)) {
            cli::printErr(QStringLiteral("edgelens-cli devices forget: ") + error);
            return 1;
        }
        if (!wasKnown) {
            cli::printErr(QStringLiteral("%1 was not a known device (%2)").arg(device->name(), known.path()));
            return 1;
        }
        cli::printOut(QStringLiteral("forgot %1: its certificate will be asked about (trusted on first use) "
                                     "at the next connection")
                          .arg(device->name()));
        return 0;
    }
    return usage();
}

} // namespace edgelens
