// edgelens-cli: batch client for EdgeLens servers. `detect` (the default), `models`, `devices`, `live`, `eval`.

#include "console.h"
#include "detectcommand.h"
#include "devicescommand.h"
#include "livecommand.h"
#include "modelscommand.h"

#ifdef EDGELENS_HAVE_EVAL
#include "evalcommand.h"
#endif

#include <QCoreApplication>
#include <QStringList>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    // Same names as the desktop app, so both see the same per-user model folder.
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EDGELENS_VERSION));

    QStringList arguments = QCoreApplication::arguments();
    const QString command = arguments.value(1);
    if (command == QLatin1String("models")) {
        arguments.removeAt(1);
        return edgelens::runModelsCommand(arguments);
    }
    if (command == QLatin1String("devices")) {
        arguments.removeAt(1);
        return edgelens::runDevicesCommand(arguments);
    }
    if (command == QLatin1String("live")) {
        edgelens::LiveCommand live;
        return live.run(arguments);
    }
    if (command == QLatin1String("eval")) {
#ifdef EDGELENS_HAVE_EVAL
        return runEvalCommand(arguments.mid(2)); // it takes what follows "eval"
#else
        edgelens::cli::printErr(QStringLiteral("edgelens-cli: this build has no evaluator (edgelens_eval was not built)"));
        return 1;
#endif
    }
    if (command == QLatin1String("detect"))
        arguments.removeAt(1);
    edgelens::DetectCommand detect;
    return detect.run(arguments);
}
