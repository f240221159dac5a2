#include "appoptions.h"

#include "widgets/appsettings.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

namespace edgelens {

namespace {

enum class Outcome { Ok, Help, Version, Error };

Outcome parseInto(QCommandLineParser &parser, const QStringList &arguments, AppOptions *options, QString *error)
{
    parser.setApplicationDescription(QCoreApplication::translate(
        "AppOptions", "EdgeLens: drop images, detect objects on this computer or on a device, browse the results."));
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    const QCommandLineOption output({QStringLiteral("o"), QStringLiteral("output")},
        QCoreApplication::translate("AppOptions", "Folder for marked-up images and JSON sidecars (default: <image folder>/inferenced)."),
        QStringLiteral("dir"));
    const QCommandLineOption host(QStringLiteral("host"),
        QCoreApplication::translate("AppOptions", "Send images to the device server at this address instead of the embedded server."),
        QStringLiteral("address"));
    const QCommandLineOption port({QStringLiteral("p"), QStringLiteral("port")},
        QCoreApplication::translate("AppOptions", "Port of the device server (default 6000)."), QStringLiteral("port"));
    const QCommandLineOption embedded(QStringLiteral("embedded"),
        QCoreApplication::translate("AppOptions", "Run detection in the app's own embedded server (the default) and start it right away."));
    const QCommandLineOption model({QStringLiteral("m"), QStringLiteral("model")},
        QCoreApplication::translate("AppOptions", "Model for the embedded server (see `edgelens-cli models`)."), QStringLiteral("name"));
    const QCommandLineOption quit(QStringLiteral("quit-when-done"),
        QCoreApplication::translate("AppOptions", "Quit once every image given on the command line is processed (exit code 1 if any failed)."));
    const QCommandLineOption noSession(QStringLiteral("no-session"),
        QCoreApplication::translate("AppOptions", "Start with an empty gallery and do not keep it for the next start."));
    const QCommandLineOption live(QStringLiteral("live"),
        QCoreApplication::translate("AppOptions", "Open the live view on a camera (/dev/video0), an RTSP or HTTP MJPEG "
                                                  "stream, or a video file played in real time."),
        QStringLiteral("source"));
    parser.addOptions({output, host, port, embedded, model, quit, noSession, live});
    parser.addPositionalArgument(QStringLiteral("images"),
        QCoreApplication::translate("AppOptions", "Image files or folders to open (folders are searched recursively)."),
        QStringLiteral("[images...]"));

    if (!parser.parse(arguments)) {
        *error = parser.errorText();
        return Outcome::Error;
    }
    if (parser.isSet(help))
        return Outcome::Help;
    if (parser.isSet(version))
        return Outcome::Version;

    options->images = parser.positionalArguments();
    options->outputDir = parser.value(output);
    options->model = parser.value(model);
    options->embedded = parser.isSet(embedded);
    options->quitWhenDone = parser.isSet(quit);
    options->noSession = parser.isSet(noSession);
    options->live = parser.value(live);
    if (parser.isSet(host)) {
        options->host = parser.value(host).trimmed();
        const QString why = AppSettings::validateHost(options->host);
        if (!why.isEmpty()) {
            *error = QCoreApplication::translate("AppOptions", "--host %1: %2").arg(parser.value(host), why);
            return Outcome::Error;
        }
    }
    if (parser.isSet(port)) {
        bool ok = false;
        const uint value = parser.value(port).toUInt(&ok);
        if (!ok || value == 0 || value > 65535) {
            *error = QCoreApplication::translate("AppOptions", "--port %1: expected a number from 1 to 65535").arg(parser.value(port));
            return Outcome::Error;
        }
        options->port = quint16(value);
    }
    if (options->embedded && !options->host.isEmpty()) {
        *error = QCoreApplication::translate("AppOptions", "--embedded and --host exclude each other");
        return Outcome::Error;
    }
    return Outcome::Ok;
}

} // namespace

std::optional<AppOptions> AppOptions::parse(const QStringList &arguments, QString *error, QString *helpText)
{
    QCommandLineParser parser;
    AppOptions options;
    QString why;
    const Outcome outcome = parseInto(parser, arguments, &options, &why);
    if (helpText)
        *helpText = parser.helpText();
    if (outcome != Outcome::Ok) {
        if (error)
            *error = why;
        return std::nullopt;
    }
    return options;
}

QStringList AppOptions::withoutQtOptions(const QStringList &arguments)
{
    static const QStringList withValue{
        QStringLiteral("platform"), QStringLiteral("platformpluginpath"), QStringLiteral("platformtheme"),
        QStringLiteral("plugin"), QStringLiteral("qwindowgeometry"), QStringLiteral("qwindowicon"),
        QStringLiteral("qwindowtitle"), QStringLiteral("session"), QStringLiteral("style"),
        QStringLiteral("stylesheet"), QStringLiteral("display"), QStringLiteral("geometry"),
        QStringLiteral("title"), QStringLiteral("name"), QStringLiteral("visual"), QStringLiteral("fn"),
        QStringLiteral("font"), QStringLiteral("bg"), QStringLiteral("fg"), QStringLiteral("im"),
        QStringLiteral("inputstyle"), QStringLiteral("qmljsdebugger")};
    static const QStringList flags{QStringLiteral("reverse"), QStringLiteral("widgetcount"), QStringLiteral("nograb"),
                                   QStringLiteral("dograb"), QStringLiteral("sync")};
    QStringList out;
    for (int i = 0; i < arguments.size(); ++i) {
        const QString &arg = arguments.at(i);
        if (i == 0 || !arg.startsWith(QLatin1Char('-')) || arg == QLatin1String("--")) {
            out << arg;
            continue;
        }
        QString name = arg.mid(arg.startsWith(QLatin1String("--")) ? 2 : 1);
        const qsizetype eq = name.indexOf(QLatin1Char('='));
        const bool inlineValue = eq >= 0;
        if (inlineValue)
            name.truncate(eq);
        if (flags.contains(name))
            continue;
        if (withValue.contains(name)) {
            if (!inlineValue)
                ++i; // its value
            continue;
        }
        out << arg;
    }
    return out;
}

std::optional<AppOptions> AppOptions::parse(const QCoreApplication &app, int *exitCode)
{
    return parse(app.arguments(), exitCode);
}

std::optional<AppOptions> AppOptions::parse(const QStringList &arguments, int *exitCode)
{
    QCommandLineParser parser;
    AppOptions options;
    QString why;
    switch (parseInto(parser, arguments, &options, &why)) {
    case Outcome::Ok:
        *exitCode = 0;
        return options;
    case Outcome::Help:
        std::fputs(qPrintable(parser.helpText()), stdout);
        *exitCode = 0;
        return std::nullopt;
    case Outcome::Version:
        std::printf("%s %s\n", qPrintable(QCoreApplication::applicationName()),
                    qPrintable(QCoreApplication::applicationVersion()));
        *exitCode = 0;
        return std::nullopt;
    case Outcome::Error:
        std::fprintf(stderr, "edgelens: %s\n%s\n", qPrintable(why),
                     qPrintable(QCoreApplication::translate("AppOptions", "Try `edgelens --help`.")));
        *exitCode = 2;
        return std::nullopt;
    }
    *exitCode = 2;
    return std::nullopt;
}

} // namespace edgelens
