// unique_ptr aliases owning OpenSSL objects, each with a typed deleter, so no
// OpenSSL object in this module is ever freed by hand. Internal to crypto.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include <memory>

namespace warden::crypto::internal {

template <typename T, void (*Free)(T*)>
struct SslDeleter {
  void operator()(T* p) const { Free(p); }
};

template <typename T, void (*Free)(T*)>
using SslPtr = std::unique_ptr<T, SslDeleter<T, Free>>;

// BIO_free returns int; adapt it to the void(T*) shape.
inline void BioFreeAll(BIO* b) { BIO_free_all(b); }

using EvpPkeyPtr = SslPtr<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtxPtr = SslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpMdCtxPtr = SslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using BioPtr = SslPtr<BIO, BioFreeAll>;
using BignumPtr = SslPtr<BIGNUM, BN_free>;
using EcdsaSigPtr = SslPtr<ECDSA_SIG, ECDSA_SIG_free>;
using OsslParamBldPtr = SslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using OsslParamPtr = SslPtr<OSSL_PARAM, OSSL_PARAM_free>;

}  // namespace warden::crypto::internal
