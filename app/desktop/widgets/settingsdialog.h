#pragma once

#include "widgets/appsettings.h"

#include <QDialog>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace edgelens {

class ConnectionTester;
class DeviceListEditor;
class DiscoveredDeviceList;
struct DiscoveredDevice;
class TokenStore;

// Preferences: where to send images (embedded server or remote devices), how, and what to
// write. OK stays disabled while a field is invalid, with the reason in red next to it.
// accept() stores the result with AppSettings::save() and the token with TokenStore (the
// keyring; the dialog says so when it has to use the settings file instead).
class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)

public:
    struct ModelChoice
    {
        QString name;    // what AppSettings::model stores
        QString summary; // shown next to it: "nanodet-m-320 (nanodet, 320x320) - ready"
        bool usable = true;
        // The manifest's recommended thresholds, shown while "Model default" is ticked; < 0
        // when unknown.
        double defaultConfidence = -1.0;
        double defaultNmsIou = -1.0;
        // What one image took on a device (server-info's measured_ms), and which device; < 0:
        // no device said.
        double measuredMs = -1.0;
        QString measuredOn{};
    };

    explicit SettingsDialog(const AppSettings &current, QWidget *parent = nullptr);
    ~SettingsDialog() override;

    // The values as shown; fields that are invalid keep the value they were opened with.
    AppSettings settings() const;

    // Models the embedded server can run, filled from ModelCatalog on construction; the app
    // may replace the list (e.g. after a download).
    void setModelChoices(const QList<ModelChoice> &choices);

    // A device's server-info (its name for people): each model it measured shows its time per
    // image beside input size and accuracy. The app passes the last info its devices sent;
    // Test Connection passes the tested device's.
    void showMeasuredTimes(const QJsonObject &serverInfo, const QString &device);
    // The text the model list shows for a choice.
    static QString choiceText(const ModelChoice &choice);

    bool isValid() const;
    QStringList validationErrors() const; // the red texts currently shown

    void accept() override;

    // Device key -> the TLS fingerprint it announced, for devices added from the network list;
    // the app's trust question compares with it (DeviceTrustDialog::setAnnouncedFingerprint).
    QHash<QString, QString> announcedFingerprints() const { return m_announcedFingerprints; }

public Q_SLOTS:
    void testConnection();

Q_SIGNALS:
    void connectionTestFinished(bool ok, const QString &message);
    void tokenLoaded();  // the stored token is in the field (or none is stored)
    void tokenSaved(bool ok);

private:
    void buildUi();
    QGroupBox *buildServerGroup();
    QGroupBox *buildDetectionGroup();
    QGroupBox *buildOutputGroup();
    QGroupBox *buildPhotosGroup();
    void connectFields();
    // Fills the threshold fields: the model's default while "Model default" is ticked (the
    // value in force), else the user's own value.
    void showThresholds();
    const ModelChoice *chosenModel() const;
    // One click on a device found on the network: into the device list, target remote.
    void addDiscovered(const DiscoveredDevice &device);
    void loadFrom(const AppSettings &settings);
    void updateEnabledState();
    void validate();
    void browseOutputDir();
    void showTestResult(bool ok, const QString &message);
    void populateModels(const QString &selected);
    void setFieldError(QLabel *label, const QString &error);

    AppSettings m_initial;
    QList<ModelChoice> m_modelChoices;
    QString m_defaultModelName;
    // The user's own thresholds, kept while "Model default" hides them; < 0: none set.
    double m_ownConfidence = -1.0;
    double m_ownNmsIou = -1.0;
    ConnectionTester *m_tester = nullptr;

    TokenStore *m_tokenStore = nullptr;
    std::optional<QString> m_loadedToken; // as read from the store; nullopt until then
    int m_testedIndex = -1;

    QComboBox *m_target = nullptr;
    DeviceListEditor *m_devices = nullptr;
    DiscoveredDeviceList *m_discovered = nullptr;
    QHash<QString, QString> m_announcedFingerprints; // device key -> fingerprint it announced
    QString m_testedKey;
    QLineEdit *m_token = nullptr;
    QLabel *m_tokenNote = nullptr;
    QSpinBox *m_timeout = nullptr;
    QSpinBox *m_inFlight = nullptr;
    QPushButton *m_testButton = nullptr;
    QLabel *m_testResult = nullptr;
    QComboBox *m_model = nullptr;
    QLabel *m_modelError = nullptr;
    QDoubleSpinBox *m_confidence = nullptr;
    QCheckBox *m_nmsDefault = nullptr;
    QCheckBox *m_confidenceDefault = nullptr;
    QDoubleSpinBox *m_nms = nullptr;
    QLineEdit *m_outputDir = nullptr;
    QPushButton *m_browse = nullptr;
    QLabel *m_outputDirError = nullptr;
    QSpinBox *m_jpegQuality = nullptr;
    QCheckBox *m_jsonSidecars = nullptr;
    QCheckBox *m_sendOriginal = nullptr;
    QComboBox *m_resultSize = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

} // namespace edgelens
