#include "discovercommand.h"

#include "console.h"

#include "discovery/deviceannouncement.h"
#include "discovery/servicebrowser.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QTimer>

namespace edgelens {

namespace {

constexpr int kUsageError = 64;

QString describe(const DiscoveredDevice &device)
{
    const DeviceAnnouncement &a = device.announcement;
    QStringList parts{device.address(), device.name};
    parts << QStringLiteral("model=%1").arg(a.model.isEmpty() ? QStringLiteral("?") : a.model);
    parts << (a.tls ? QStringLiteral("tls=%1").arg(a.fingerprint.isEmpty() ? QStringLiteral("yes") : a.fingerprint)
                    : QStringLiteral("tls=no"));
    parts << QStringLiteral("token=%1").arg(a.tokenRequired ? QStringLiteral("yes") : QStringLiteral("no"));
    parts << QStringLiteral("protocols=%1").arg(a.protocols.join(QLatin1Char(',')));
    if (a.httpPort > 0)
        parts << QStringLiteral("http=%1").arg(a.httpPort);
    if (!a.version.isEmpty())
        parts << QStringLiteral("version=%1").arg(a.version);
    return parts.join(QLatin1Char('\t'));
}

} // namespace

int runDiscoverCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "EdgeLens servers announcing themselves on the local network (DNS-SD _edgelens._tcp over mDNS, through "
        "avahi-daemon). The announced TLS fingerprint is a hint: the first connection still asks (trust on "
        "first use)."));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout"),
                                           QStringLiteral("Seconds to listen (default: 3)."), QStringLiteral("s"),
                                           QStringLiteral("3"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("A JSON array on stdout."));
    parser.addOptions({timeoutOption, jsonOption});
    parser.addHelpOption();
    if (!parser.parse(arguments.mid(1))) {
        cli::printErr(QStringLiteral("edgelens-cli devices discover: ") + parser.errorText());
        return kUsageError;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        cli::printOut(QStringLiteral("usage: edgelens-cli devices discover [--timeout S] [--json]\n")
                      + parser.helpText().section(QLatin1Char('\n'), 1));
        return 0;
    }
    if (!parser.positionalArguments().isEmpty()) {
        cli::printErr(QStringLiteral("edgelens-cli devices discover: unexpected \"%1\"")
                          .arg(parser.positionalArguments().join(QLatin1Char(' '))));
        return kUsageError;
    }
    bool ok = false;
    const double seconds = parser.value(timeoutOption).toDouble(&ok);
    if (!ok || seconds <= 0 || seconds > 3600) {
        cli::printErr(QStringLiteral("edgelens-cli devices discover: --timeout: expected seconds from 0 to 3600, "
                                     "got \"%1\"")
                          .arg(parser.value(timeoutOption)));
        return kUsageError;
    }

    // Found and gone are this command's output, not log lines.
    QLoggingCategory::setFilterRules(QStringLiteral("edgelens.discovery.*.debug=false"));
    ServiceBrowser browser;
    if (!browser.start(QString::fromLatin1(DeviceAnnouncement::kServiceType))) {
        cli::printErr(QStringLiteral("edgelens-cli devices discover: cannot reach avahi-daemon (%1); is it "
                                     "installed and running?")
                          .arg(browser.lastError()));
        return 1;
    }
    QTimer::singleShot(int(seconds * 1000), qApp, &QCoreApplication::quit);
    QCoreApplication::exec();

    const QList<DiscoveredService> services = browser.services();
    QJsonArray array;
    for (const DiscoveredService &service : services) {
        const DiscoveredDevice device = DiscoveredDevice::fromService(service);
        if (parser.isSet(jsonOption))
            array.append(device.toJson());
        else
            cli::printOut(describe(device));
    }
    if (parser.isSet(jsonOption))
        cli::printOut(QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Indented)).trimmed());
    cli::printErr(QStringLiteral("%1 device(s) found in %2 s").arg(services.size()).arg(seconds));
    return 0;
}

} // namespace edgelens
