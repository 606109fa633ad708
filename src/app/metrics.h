// Prometheus metrics (text exposition format 0.0.4) at GET /metrics: requests by endpoint and
// status, latency histograms by endpoint, tokens issued by grant type, failed logins,
// connections refused over the per-address cap. Lock-free
// counters on the request path; rendering reads them without stopping writers. Requests are
// counted once their answer is final (Application::observe, called when the server sends it).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.h"

namespace latchkey::app {

class Metrics final : public EventSink {
 public:
  // One row of request counts and latencies per label of the route table (app/routes.h).
  Metrics();

  // Counts a request under `endpoint`, a label of route_labels(); any other under "other".
  void observe(std::string_view endpoint, unsigned status, int64_t micros);
  // A connection the server closed at once for being over the per-address connection cap
  // (http::ServerOptions::on_address_refused).
  void connection_refused_per_address();
  void emit(const Event& event) override;
  std::string render() const;

 private:
  static constexpr std::array<int64_t, 12> kBucketsUs{
      250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000};
  struct PerEndpoint {
    std::array<std::atomic<uint64_t>, 600> by_status{};  // index = HTTP status
    std::array<std::atomic<uint64_t>, kBucketsUs.size()> buckets{};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_us{0};
  };
  // Fixed at construction: labels_[i] counts in endpoints_[i]; the last label is "other".
  const std::vector<std::string_view> labels_;
  const std::unique_ptr<PerEndpoint[]> endpoints_;

  // Grant types the token endpoint serves; anything else counts as "other".
  static constexpr std::array<std::string_view, 6> kGrants{
      "authorization_code",
      "refresh_token",
      "client_credentials",
      "urn:ietf:params:oauth:grant-type:jwt-bearer",
      "urn:ietf:params:oauth:grant-type:saml2-bearer",
      "implicit"};
  std::array<std::atomic<uint64_t>, kGrants.size() + 1> tokens_issued_{};
  // Events by type (index = EventType).
  std::array<std::atomic<uint64_t>, std::size(kEventTypes)> events_{};
  std::atomic<uint64_t> refused_per_address_{0};
};

}  // namespace latchkey::app
