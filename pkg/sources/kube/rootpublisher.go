package kube

import (
	"bytes"
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// RootConfigMapName is Istio's name for the ConfigMap that carries the mesh trust bundle in
// every namespace; workloads without a proxy mount it to trust mesh certificates.
const RootConfigMapName = "istio-ca-root-cert"

// RootPublisher keeps a ConfigMap with the CA's root certificate (key root-cert.pem) in every
// namespace. Only the leader writes (Leader), so replicas never fight; every Resync the leader
// re-checks all namespaces, which also repairs edited or deleted ConfigMaps and covers a
// leadership change.
type RootPublisher struct {
	Client kubernetes.Interface
	Root   []byte
	Leader func() bool
	Resync time.Duration // default 1m
	Log    *slog.Logger
}

// Run publishes until ctx is done.
func (p *RootPublisher) Run(ctx context.Context) error {
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	resync := p.Resync
	if resync <= 0 {
		resync = time.Minute
	}
	factory := kubeinformers.NewSharedInformerFactory(p.Client, 0)
	nsInformer := factory.Core().V1().Namespaces().Informer()
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	defer queue.ShutDown()
	enqueue := func(o any) {
		if ns, ok := o.(*corev1.Namespace); ok && ns.Status.Phase != corev1.NamespaceTerminating {
			queue.Add(ns.Name)
		}
	}
	if _, err := nsInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, o any) { enqueue(o) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), nsInformer.HasSynced) {
		return nil
	}
	go func() {
		// Every second: on becoming leader enqueue every namespace at once (the first events
		// usually arrive before the Lease is won); every resync, enqueue them all anyway.
		t := time.NewTicker(min(resync, time.Second))
		defer t.Stop()
		wasLeader, last := false, time.Now()
		for {
			select {
			case <-ctx.Done():
				queue.ShutDown()
				return
			case now := <-t.C:
				leader := p.Leader()
				if leader && (!wasLeader || now.Sub(last) >= resync) {
					for _, o := range nsInformer.GetStore().List() {
						enqueue(o)
					}
					last = now
				}
				wasLeader = leader
			}
		}
	}()
	for {
		ns, quit := queue.Get()
		if quit {
			return nil
		}
		if p.Leader() {
			if err := p.ensure(ctx, ns); err != nil && ctx.Err() == nil {
				log.Warn("publishing the root certificate failed", "namespace", ns, "err", err)
				queue.AddRateLimited(ns)
				queue.Done(ns)
				continue
			}
		}
		queue.Forget(ns)
		queue.Done(ns)
	}
}

// ensure creates or corrects the ConfigMap of one namespace.
func (p *RootPublisher) ensure(ctx context.Context, ns string) error {
	cms := p.Client.CoreV1().ConfigMaps(ns)
	cm, err := cms.Get(ctx, RootConfigMapName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: RootConfigMapName, Labels: map[string]string{"app.kubernetes.io/managed-by": "controlplane"}},
			Data:       map[string]string{"root-cert.pem": string(p.Root)},
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil // created meanwhile; the next resync checks its content
		}
		return err
	}
	if err != nil {
		return err
	}
	if bytes.Equal([]byte(cm.Data["root-cert.pem"]), p.Root) {
		return nil
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	cm.Data["root-cert.pem"] = string(p.Root)
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	return err
}
