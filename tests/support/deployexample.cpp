#include "deployexample.h"

#include <QFile>
#include <QRegularExpression>
#include <QStringList>

namespace edgelens::test {

QString deployBlock(const QString &language, const QString &marker, QString *error)
{
    QFile docs(QStringLiteral(EDGELENS_SOURCE_DIR "/docs/DEPLOY.md"));
    if (!docs.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1").arg(docs.fileName());
        return {};
    }
    const QString text = QString::fromUtf8(docs.readAll());
    const QRegularExpression block(QStringLiteral("```%1\n(.*?)```").arg(language),
                                   QRegularExpression::DotMatchesEverythingOption);
    for (auto it = block.globalMatch(text); it.hasNext();) {
        const QString body = it.next().captured(1);
        if (body.contains(marker))
            return body;
    }
    *error = QStringLiteral("docs/DEPLOY.md has no ```%1 block with \"%2\"").arg(language, marker);
    return {};
}

QString rewriteDeployBlock(const QString &block, quint16 docsPort, quint16 listenPort,
                           const QHash<int, quint16> &devices, QString *error)
{
    const QRegularExpression listen(QStringLiteral(R"(^(\s*(?:listen|bind)\s+):?%1\b)").arg(docsPort));
    const QRegularExpression server(
        QStringLiteral(R"(^(\s*server\s+(?:[A-Za-z]\S*\s+)?)192\.0\.2\.(\d+):%1\b)").arg(docsPort));
    QStringList lines;
    int listens = 0;
    int mapped = 0;
    for (const QString &line : block.split(QLatin1Char('\n'))) {
        QString out = line;
        const QRegularExpressionMatch bound = listen.match(line);
        const QRegularExpressionMatch device = server.match(line);
        if (bound.hasMatch()) {
            out = bound.captured(1) + QStringLiteral("127.0.0.1:%1").arg(listenPort) + line.mid(bound.capturedEnd());
            ++listens;
        } else if (device.hasMatch()) {
            const int host = device.captured(2).toInt();
            if (!devices.contains(host))
                continue;
            out = device.captured(1) + QStringLiteral("127.0.0.1:%1").arg(devices.value(host))
                + line.mid(device.capturedEnd());
            ++mapped;
        }
        lines << out;
    }
    if (listens != 1 || mapped != devices.size()) {
        *error = QStringLiteral("a docs/DEPLOY.md example changed shape: expected one listening port %1 and the "
                                "devices 192.0.2.N:%1 the test maps, found %2 port(s) and %3 of %4 devices")
                     .arg(docsPort)
                     .arg(listens)
                     .arg(mapped)
                     .arg(devices.size());
        return {};
    }
    return lines.join(QLatin1Char('\n'));
}

} // namespace edgelens::test
