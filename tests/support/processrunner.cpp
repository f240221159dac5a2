#include "processrunner.h"

#include <QDeadlineTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

namespace edgelens::test {

ProcessRun runProcess(const QString &program, const QStringList &arguments, const ProcessOptions &options)
{
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (auto it = options.environment.cbegin(); it != options.environment.cend(); ++it)
        env.insert(it.key(), it.value());
    process.setProcessEnvironment(env);
    if (!options.workingDirectory.isEmpty())
        process.setWorkingDirectory(options.workingDirectory);
    process.start(program, arguments);

    ProcessRun run;
    const QDeadlineTimer deadline(options.timeoutMs);
    // qWait, not waitForFinished: the latter would block the servers the child talks to.
    while (process.state() != QProcess::NotRunning && !deadline.hasExpired())
        QTest::qWait(20);
    if (process.state() != QProcess::NotRunning) {
        run.timedOut = true;
        process.kill();
        process.waitForFinished();
    }
    const bool normal = !run.timedOut && process.error() != QProcess::FailedToStart
        && process.exitStatus() == QProcess::NormalExit;
    run.exitCode = normal ? process.exitCode() : -1;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    if (process.error() == QProcess::FailedToStart)
        run.err += QStringLiteral("\n[%1 did not start: %2]").arg(program, process.errorString());
    if (run.timedOut)
        run.err += QStringLiteral("\n[%1 killed after %2 ms]").arg(program).arg(options.timeoutMs);
    failOnSanitizerReport(program, run.err);
    return run;
}

bool failOnSanitizerReport(const QString &program, const QString &stderrText)
{
    // AddressSanitizer, LeakSanitizer ("ERROR: <Tool>Sanitizer") and UndefinedBehaviorSanitizer.
    static const QRegularExpression report(QStringLiteral("^(==\\d+==ERROR: \\w+Sanitizer|.*: runtime error: )"),
                                           QRegularExpression::MultilineOption);
    const QRegularExpressionMatch match = report.match(stderrText);
    if (!match.hasMatch())
        return false;
    qCritical().noquote() << program << "reported:\n" << stderrText.mid(match.capturedStart());
    QTest::qFail(qPrintable(QStringLiteral("sanitizer report from %1 (printed above)").arg(program)), __FILE__,
                 __LINE__);
    return true;
}

} // namespace edgelens::test
