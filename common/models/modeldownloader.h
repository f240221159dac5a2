#pragma once

// Fetches a model's files into a model folder (normally ModelCatalog::userModelDir()/<name>).
// Each file is streamed into "<name>.part" next to its final place; an interrupted download is
// resumed with an HTTP Range request when the server supports it (otherwise restarted from
// zero), checked against its sha256 and only then renamed over the final name. So the final
// name only ever holds a complete, verified file; what was there before stays until then.

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <memory>

class QFile;
class QNetworkAccessManager;
class QNetworkReply;

namespace edgelens {

struct DownloadFile
{
    QString name;   // file name inside the target folder
    QUrl url;       // where to get it
    QString sha256; // lower-case hex; empty: not checked (a warning is logged)
};

class ModelDownloader final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelDownloader)

public:
    explicit ModelDownloader(QObject *parent = nullptr);
    ~ModelDownloader() override;

    void setStallTimeout(int milliseconds); // no byte for this long fails the file; default 30000

    // Downloads the files one after another into targetFolder (created if needed). Files that
    // are already there with the right checksum are kept. Ends with finished().
    void start(const QList<DownloadFile> &files, const QString &targetFolder);
    void cancel(); // keeps the .part files for a later resume; finished(false, "Cancelled.")
    bool isRunning() const;

    // Lower-case hex sha256 of a file, empty when it cannot be read.
    static QString sha256OfFile(const QString &path);
    static QString partPath(const QString &finalPath); // "<final>.part"

Q_SIGNALS:
    void fileStarted(const QString &name, qint64 resumeOffset);
    // received and total count the whole file, including a resumed part; total is -1 if unknown.
    void progress(const QString &name, qint64 received, qint64 total);
    void fileSkipped(const QString &name, const QString &path); // already present and verified
    void fileFinished(const QString &name, const QString &path);
    void finished(bool ok, const QString &error);

private:
    void startNextFile();
    void handleReadyRead();
    void handleFinished();
    void failAll(const QString &error);
    bool finalizeFile(QString *error);

    QNetworkAccessManager *m_network = nullptr;
    QList<DownloadFile> m_files;
    QString m_targetFolder;
    int m_index = -1;
    int m_stallTimeoutMs = 30000;
    QPointer<QNetworkReply> m_reply;
    std::unique_ptr<QFile> m_part;
    qint64 m_resumeOffset = 0;  // bytes of the .part kept by the current request
    qint64 m_expectedTotal = -1;
    bool m_rangeRestart = false; // the server answered a Range request with something unusable
    bool m_running = false;
};

} // namespace edgelens
