#include "modeldownloader.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QTimer>

#include <cerrno>
#include <cstdio>
#include <cstring>

Q_LOGGING_CATEGORY(lcDownload, "edgelens.client.download", QtInfoMsg)

namespace edgelens {

namespace {

QString humanBytes(qint64 bytes)
{
    if (bytes < 0)
        return QStringLiteral("?");
    if (bytes < 1024 * 1024)
        return QString::number(double(bytes) / 1024.0, 'f', 1) + QStringLiteral(" KB");
    return QString::number(double(bytes) / (1024.0 * 1024.0), 'f', 1) + QStringLiteral(" MB");
}

QString describeNetworkError(QNetworkReply *reply)
{
    const QString host = reply->url().host();
    switch (reply->error()) {
    case QNetworkReply::HostNotFoundError:
        return QStringLiteral("cannot resolve %1: are you offline?").arg(host);
    case QNetworkReply::ConnectionRefusedError:
        return QStringLiteral("%1 refused the connection").arg(host);
    case QNetworkReply::RemoteHostClosedError:
        return QStringLiteral("%1 closed the connection early").arg(host);
    case QNetworkReply::OperationCanceledError:
    case QNetworkReply::TimeoutError:
        return QStringLiteral("no data from %1 for too long").arg(host);
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::UnknownNetworkError:
        return QStringLiteral("network unavailable (%1)").arg(reply->errorString());
    case QNetworkReply::SslHandshakeFailedError:
        return QStringLiteral("secure connection to %1 failed (%2)").arg(host, reply->errorString());
    case QNetworkReply::ContentNotFoundError:
        return QStringLiteral("%1 has no such file (HTTP 404)").arg(reply->url().toDisplayString());
    default:
        break;
    }
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    return status ? QStringLiteral("HTTP %1 from %2: %3").arg(status).arg(host, reply->errorString())
                  : reply->errorString();
}

// POSIX rename replaces the destination atomically; QFile::rename refuses to overwrite.
bool replaceFile(const QString &from, const QString &to, QString *error)
{
    if (std::rename(QFile::encodeName(from).constData(), QFile::encodeName(to).constData()) == 0)
        return true;
    if (error)
        *error = QStringLiteral("cannot move %1 to %2: %3").arg(from, to, QString::fromLocal8Bit(std::strerror(errno)));
    return false;
}

} // namespace

ModelDownloader::ModelDownloader(QObject *parent)
    : QObject(parent)
    , m_network(new QNetworkAccessManager(this))
{
}

ModelDownloader::~ModelDownloader()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
}

void ModelDownloader::setStallTimeout(int milliseconds)
{
    m_stallTimeoutMs = std::max(1, milliseconds);
}

bool ModelDownloader::isRunning() const
{
    return m_running;
}

QString ModelDownloader::partPath(const QString &finalPath)
{
    return finalPath + QStringLiteral(".part");
}

QString ModelDownloader::sha256OfFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QString();
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file))
        return QString();
    return QString::fromLatin1(hash.result().toHex());
}

void ModelDownloader::start(const QList<DownloadFile> &files, const QString &targetFolder)
{
    if (m_running) {
        qCWarning(lcDownload) << "start() while a download is running; ignored";
        return;
    }
    m_files = files;
    m_targetFolder = targetFolder;
    m_index = -1;
    m_running = true;
    if (!QDir().mkpath(targetFolder)) {
        // Deferred so that callers connect before the first signal, as with a real download.
        QTimer::singleShot(0, this, [this] { failAll(QStringLiteral("cannot create the folder %1").arg(m_targetFolder)); });
        return;
    }
    QTimer::singleShot(0, this, &ModelDownloader::startNextFile);
}

void ModelDownloader::cancel()
{
    if (!m_running)
        return;
    if (m_reply) {
        QNetworkReply *reply = m_reply;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
    if (m_part)
        m_part->close();
    m_part.reset();
    m_running = false;
    Q_EMIT finished(false, QStringLiteral("Cancelled."));
}

void ModelDownloader::failAll(const QString &error)
{
    if (m_part)
        m_part->close();
    m_part.reset();
    m_running = false;
    qCWarning(lcDownload).noquote() << error;
    Q_EMIT finished(false, error);
}

void ModelDownloader::startNextFile()
{
    if (!m_running)
        return;
    ++m_index;
    if (m_index >= m_files.size()) {
        m_running = false;
        Q_EMIT finished(true, QString());
        return;
    }
    const DownloadFile &file = m_files.at(m_index);
    const QString finalPath = QDir(m_targetFolder).filePath(file.name);

    if (QFileInfo::exists(finalPath) && !file.sha256.isEmpty() && sha256OfFile(finalPath) == file.sha256.toLower()) {
        Q_EMIT fileSkipped(file.name, finalPath);
        QTimer::singleShot(0, this, &ModelDownloader::startNextFile);
        return;
    }
    if (!file.url.isValid() || file.url.isEmpty()) {
        failAll(QStringLiteral("%1: the manifest has no download address; copy the file into %2 yourself")
                    .arg(file.name, m_targetFolder));
        return;
    }

    m_part = std::make_unique<QFile>(partPath(finalPath));
    m_resumeOffset = m_rangeRestart ? 0 : (m_part->exists() ? m_part->size() : 0);
    if (m_rangeRestart) {
        m_part->remove();
        m_rangeRestart = false;
    }
    if (!m_part->open(QIODevice::ReadWrite)) {
        failAll(QStringLiteral("%1: cannot write %2: %3").arg(file.name, m_part->fileName(), m_part->errorString()));
        return;
    }
    m_part->seek(m_resumeOffset);
    m_expectedTotal = -1;

    QNetworkRequest request(file.url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setTransferTimeout(m_stallTimeoutMs);
    request.setHeader(QNetworkRequest::UserAgentHeader, QByteArray("EdgeLens/" EDGELENS_VERSION));
    if (m_resumeOffset > 0)
        request.setRawHeader("Range", "bytes=" + QByteArray::number(m_resumeOffset) + '-');
    qCInfo(lcDownload) << "downloading" << file.url.toDisplayString() << "to" << finalPath
                       << (m_resumeOffset ? QStringLiteral("resuming at %1").arg(m_resumeOffset) : QString());
    Q_EMIT fileStarted(file.name, m_resumeOffset);

    m_reply = m_network->get(request);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, [this] {
        const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QVariant length = m_reply->header(QNetworkRequest::ContentLengthHeader);
        if (m_resumeOffset > 0 && status == 200) {
            // The server ignored the Range header: start the part over.
            qCInfo(lcDownload) << "server does not resume; restarting" << m_files.at(m_index).name;
            m_resumeOffset = 0;
            m_part->resize(0);
            m_part->seek(0);
        } else if (m_resumeOffset > 0 && status == 206) {
            static const QRegularExpression range(QStringLiteral("^bytes (\\d+)-(\\d+)/(\\d+|\\*)"));
            const auto match = range.match(QString::fromLatin1(m_reply->rawHeader("Content-Range")));
            if (!match.hasMatch() || match.captured(1).toLongLong() != m_resumeOffset) {
                m_rangeRestart = true; // handled in handleFinished
                m_reply->abort();
                return;
            }
            if (match.captured(3) != QLatin1String("*"))
                m_expectedTotal = match.captured(3).toLongLong();
        }
        if (m_expectedTotal < 0 && length.isValid())
            m_expectedTotal = m_resumeOffset + length.toLongLong();
    });
    connect(m_reply, &QNetworkReply::readyRead, this, &ModelDownloader::handleReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &ModelDownloader::handleFinished);
}

void ModelDownloader::handleReadyRead()
{
    if (!m_reply || !m_part || m_rangeRestart)
        return;
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200 && status != 206)
        return; // error bodies are not model bytes
    const QByteArray bytes = m_reply->readAll();
    if (m_part->write(bytes) != bytes.size()) {
        const QString error = QStringLiteral("%1: cannot write %2: %3")
                                  .arg(m_files.at(m_index).name, m_part->fileName(), m_part->errorString());
        QNetworkReply *reply = m_reply;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
        failAll(error);
        return;
    }
    Q_EMIT progress(m_files.at(m_index).name, m_part->pos(), m_expectedTotal);
}

void ModelDownloader::handleFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    handleReadyRead();
    if (!m_running)
        return;
    reply->deleteLater();
    m_reply = nullptr;
    const DownloadFile &file = m_files.at(m_index);
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();

    if (m_rangeRestart || status == 416) {
        // The part no longer matches what the server has; start that file again from zero.
        m_rangeRestart = true;
        m_part->close();
        --m_index;
        QTimer::singleShot(0, this, &ModelDownloader::startNextFile);
        return;
    }
    if (reply->error() != QNetworkReply::NoError || (status != 200 && status != 206)) {
        const qint64 have = m_part->size();
        m_part->close();
        QString error = QStringLiteral("%1: download failed: %2").arg(file.name, describeNetworkError(reply));
        if (have > 0 && (status == 200 || status == 206 || status == 0)) {
            error += QStringLiteral(" after %1 of %2; run the same command again to resume")
                         .arg(humanBytes(have), humanBytes(m_expectedTotal));
        }
        failAll(error);
        return;
    }
    if (m_expectedTotal >= 0 && m_part->size() != m_expectedTotal) {
        const qint64 have = m_part->size();
        m_part->close();
        failAll(QStringLiteral("%1: the connection was cut after %2 of %3; run the same command again to resume")
                    .arg(file.name, humanBytes(have), humanBytes(m_expectedTotal)));
        return;
    }
    QString error;
    if (!finalizeFile(&error)) {
        failAll(error);
        return;
    }
    QTimer::singleShot(0, this, &ModelDownloader::startNextFile);
}

bool ModelDownloader::finalizeFile(QString *error)
{
    const DownloadFile &file = m_files.at(m_index);
    const QString finalPath = QDir(m_targetFolder).filePath(file.name);
    if (!m_part->flush()) {
        *error = QStringLiteral("%1: cannot write %2: %3").arg(file.name, m_part->fileName(), m_part->errorString());
        return false;
    }
    m_part->close();
    const QString partFile = m_part->fileName();
    m_part.reset();
    if (file.sha256.isEmpty()) {
        qCWarning(lcDownload) << file.name << "has no checksum in its manifest; not verified";
    } else {
        const QString actual = sha256OfFile(partFile);
        if (actual != file.sha256.toLower()) {
            // A wrong file must not be resumed either: it would stay wrong.
            QFile::remove(partFile);
            *error = QStringLiteral("%1: checksum mismatch (expected sha256 %2, got %3); the download was discarded")
                         .arg(file.name, file.sha256.toLower(), actual);
            return false;
        }
    }
    if (!replaceFile(partFile, finalPath, error))
        return false;
    qCInfo(lcDownload) << "saved" << finalPath;
    Q_EMIT fileFinished(file.name, finalPath);
    return true;
}

} // namespace edgelens
