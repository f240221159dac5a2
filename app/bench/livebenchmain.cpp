// edgelens-livebench: the live view's figures on a real stream through one device. Prints
// them (a table, or JSON with --json); asserts nothing. app/bench/live-bench.sh starts a
// 720p30 RTSP stream and an edgelens-server --workers 1 --threads 1 and runs it.

#include "livebench.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>

#include <algorithm>
#include <cstdio>

using namespace edgelens;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationName(QStringLiteral("EdgeLens"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Live detections per second against the device's single-frame images per second in the same run, "
        "capture-to-screen latency against the device's own time, and its drift over the run."));
    parser.addHelpOption();
    const QCommandLineOption sourceOption(QStringLiteral("source"), QStringLiteral("Stream URL or video file."),
                                          QStringLiteral("URL"));
    const QCommandLineOption hostOption(QStringLiteral("host"), QStringLiteral("Device HOST:PORT."),
                                        QStringLiteral("host"));
    const QCommandLineOption secondsOption(QStringLiteral("seconds"), QStringLiteral("Live phase (default 60)."),
                                           QStringLiteral("S"), QStringLiteral("60"));
    const QCommandLineOption baselineOption(QStringLiteral("baseline-seconds"),
                                            QStringLiteral("Each single-frame phase (default 10)."),
                                            QStringLiteral("S"), QStringLiteral("10"));
    const QCommandLineOption inFlightOption(QStringLiteral("max-in-flight"),
                                            QStringLiteral("Requests out at once (default 2)."), QStringLiteral("N"),
                                            QStringLiteral("2"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print JSON."));
    parser.addOptions({sourceOption, hostOption, secondsOption, baselineOption, inFlightOption, jsonOption});
    parser.process(app);

    QString error;
    const std::optional<StreamSpec> source = StreamSpec::parse(parser.value(sourceOption), &error);
    const std::optional<DeviceSpec> device = DeviceSpec::parse(parser.value(hostOption), protocol::kDefaultPort, &error);
    if (!source || !device) {
        std::fprintf(stderr, "edgelens-livebench: %s\n", qPrintable(error));
        return 2;
    }
    LiveBench::Options options;
    options.source = *source;
    options.device = *device;
    options.device.protocol = DeviceSpec::Protocol::V2;
    options.liveSeconds = std::max(20, parser.value(secondsOption).toInt());
    options.baselineSeconds = std::max(2, parser.value(baselineOption).toInt());
    options.maxInFlight = std::clamp(parser.value(inFlightOption).toInt(), 1, 16);
    LiveBench bench(options);
    const QJsonObject figures = bench.run(&error);
    if (figures.isEmpty()) {
        std::fprintf(stderr, "edgelens-livebench: %s\n", qPrintable(StreamSpec::maskCredentials(error)));
        return 1;
    }
    if (parser.isSet(jsonOption)) {
        std::printf("%s", QJsonDocument(figures).toJson(QJsonDocument::Indented).constData());
        return 0;
    }
    for (auto it = figures.begin(); it != figures.end(); ++it) {
        const QJsonValue v = it.value();
        const QString text = v.isBool() ? (v.toBool() ? QStringLiteral("yes") : QStringLiteral("NO"))
                             : v.isDouble() ? QString::number(v.toDouble())
                                            : v.toString();
        std::printf("%-40s %s\n", qPrintable(it.key()), qPrintable(text));
    }
    return 0;
}
