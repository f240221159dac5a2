#pragma once

// Which detector the processing queue sends to, and getting it ready: the embedded server
// (started on demand with the chosen model, restarted when the model changes) or a remote
// device (host, port, protocol). Also carries the processing settings (thresholds, output,
// timeout, requests in flight) over to the queue and client.

#include "widgets/appsettings.h"

#include <QObject>

namespace edgelens {

class DetectionClient;
class EmbeddedServer;
class GalleryModel;
class ProcessingQueue;
class StatusPresenter;
class TokenStore;

class TargetController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TargetController)

public:
    TargetController(GalleryModel *model, ProcessingQueue *queue, DetectionClient *client, EmbeddedServer *embedded,
                     StatusPresenter *status, QObject *parent = nullptr);

    // True when switching from a to b means talking to another detector (what the user is
    // asked about while images are on their way).
    static bool targetDiffers(const AppSettings &a, const AppSettings &b);

    const AppSettings &settings() const { return m_settings; }
    // Applies everything; reconnects or restarts only when the target itself changed. The
    // first call always sets the target up.
    void apply(const AppSettings &settings);
    // Before sending: the embedded server is started (or restarted with the chosen model).
    void ensureReady();
    // The token the devices get: read from the keyring on construction, then whatever the
    // settings dialog chose.
    QString token() const { return m_token; }

signals:
    void tokenChanged(const QString &token);

private:
    void applyTarget();
    void setToken(const QString &token);

    GalleryModel *m_model;
    ProcessingQueue *m_queue;
    DetectionClient *m_client;
    EmbeddedServer *m_embedded;
    StatusPresenter *m_status;
    AppSettings m_settings;
    bool m_applied = false;
    TokenStore *m_tokenStore = nullptr;
    QString m_token;
    bool m_tokenChosen = false; // a dialog's choice arrived before the keyring answered
};

} // namespace edgelens
