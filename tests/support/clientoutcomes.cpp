#include "clientoutcomes.h"

namespace edgelens::test {

ClientOutcomes::ClientOutcomes(DetectionClient &client)
{
    // The client is the context, so the connections end with it; declare the outcomes after
    // the client so they are gone first only once nothing can report any more.
    QObject::connect(&client, &DetectionClient::resultReady, &client, [this](quint64 id, const ClientResult &r) {
        countIfSettled(id);
        results.insert(id, r);
    });
    QObject::connect(&client, &DetectionClient::requestFailed, &client,
                     [this](quint64 id, const QString &reason, bool retryable) {
                         countIfSettled(id);
                         failures.insert(id, reason);
                         failureRetryable.insert(id, retryable);
                     });
}

void ClientOutcomes::countIfSettled(quint64 id)
{
    if (results.contains(id) || failures.contains(id))
        ++duplicates;
}

bool nothingInFlight(const DetectionClient &client)
{
    for (const DeviceStatus &status : client.deviceStatuses()) {
        if (status.inFlight > 0)
            return false;
    }
    return client.pendingCount() == 0;
}

} // namespace edgelens::test
