#include "promtoolcheck.h"

#include <QProcess>
#include <QStandardPaths>

namespace edgelens::test {

QString promtoolProblems(const QByteArray &exposition, bool *missing)
{
    const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
    *missing = promtool.isEmpty();
    if (*missing)
        return QStringLiteral("promtool not found (apt-get install prometheus)");
    QProcess process;
    process.start(promtool, {QStringLiteral("check"), QStringLiteral("metrics")});
    if (!process.waitForStarted(10000))
        return QStringLiteral("promtool did not start: ") + process.errorString();
    process.write(exposition);
    process.closeWriteChannel();
    if (!process.waitForFinished(60000))
        return QStringLiteral("promtool did not finish");
    const QString output = QString::fromUtf8(process.readAllStandardOutput() + process.readAllStandardError()).trimmed();
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return QStringLiteral("promtool exit %1: %2").arg(process.exitCode()).arg(output);
    // Lint findings are printed but do not change the exit code; they count as problems here.
    return output;
}

} // namespace edgelens::test
